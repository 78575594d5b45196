// Tagger agreement of augmented records: the NER bundle tags each valid record's tokens, and the record
// gets taggerAgreement (span F1 of its tags against the tagger's) and its combined quality recomputed.
// Which tagger is the caller's to choose, and it matters: one that saw more gold than the augmentation's
// source data leaks that gold into the score (src/augment/quality.ts, the schema's doc).
import type { OperatorFunction } from 'rxjs';
import { spanAgreement, withQuality } from '../../augment/quality.ts';
import type { Envelope } from '../../engine/envelope.ts';
import type { AugmentedSentence } from '../../io/avro/types.generated.ts';
import { batchModel } from '../batchModel.ts';
import { withModel } from '../withModel.ts';
import type { TagEntitiesInit } from './tagEntities.ts';
import { createTokenTagger } from './tokenTagger.ts';

/** Scores each valid AugmentedSentence with a tagger's agreement; invalid records pass untouched. */
export function scoreAgreement(
  config: TagEntitiesInit,
): OperatorFunction<Envelope<AugmentedSentence>, Envelope<AugmentedSentence>> {
  const step = config.stepId ?? 'agreement';
  const { tagger, model, taggerOptions, ...batch } = config;
  return withModel(
    step,
    tagger,
    model ? () => createTokenTagger(model, { stepId: step, ...taggerOptions }) : undefined,
    (get) =>
      batchModel<AugmentedSentence, AugmentedSentence>(
        { ...batch, stepId: step, bucketBy: (v) => (v as AugmentedSentence).tokens.length },
        async (items) => {
          const todo = items.filter((r) => r.valid && r.tokens.length > 0);
          const res =
            todo.length > 0 ? await (await get()).predict(todo.map((r) => ({ tokens: r.tokens }))) : [];
          let k = 0;
          return items.map((r) =>
            r.valid && r.tokens.length > 0
              ? withQuality({ ...r, taggerAgreement: spanAgreement(r.tags, res[k++]!.tags) })
              : r,
          );
        },
      ),
  );
}
