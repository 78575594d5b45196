// The keyword column of labeled sentences that have none (2-column CoNLL, LabeledSentence records with
// keywordTags null): tagged by the keyword bundle, so BioAug's keyword selection works on any corpus.
import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel } from '../batchModel.ts';
import type { TagEntitiesInit } from '../ner/tagEntities.ts';
import { createTokenTagger } from '../ner/tokenTagger.ts';
import { withModel } from '../withModel.ts';

/** A sentence that may carry a keyword column (bare `B`/`I`/`O`, one per token). */
export interface MaybeKeywords {
  tokens: string[];
  keywords?: string[];
}

/** Bare keyword BIO (`B`/`I`/`O`) of a tagger's tags (`B-KEY`, `I-KEY`, `O`). */
export function keywordColumnOf(tags: readonly string[]): string[] {
  return tags.map((t) => (t.startsWith('B-') ? 'B' : t.startsWith('I-') ? 'I' : 'O'));
}

/**
 * Fills `keywords` from the keyword tagger where a sentence has no keyword column; sentences that
 * have one pass through untouched (their column is the corpus's own), and are never sent to the model.
 */
export function fillKeywordColumn<S extends MaybeKeywords>(
  config: TagEntitiesInit,
): OperatorFunction<Envelope<S>, Envelope<S & { keywords: string[] }>> {
  const step = config.stepId ?? 'keywords';
  const { tagger, model, taggerOptions, ...batch } = config;
  return withModel(
    step,
    tagger,
    model ? () => createTokenTagger(model, { stepId: step, ...taggerOptions }) : undefined,
    (get) =>
      batchModel<S, S & { keywords: string[] }>(
        { ...batch, stepId: step, bucketBy: (v) => (v as S).tokens.length },
        async (items) => {
          const todo = items.filter((s) => !s.keywords);
          const res = todo.length > 0 ? await (await get()).predict(todo) : [];
          let k = 0;
          return items.map((s) =>
            s.keywords
              ? (s as S & { keywords: string[] })
              : { ...s, keywords: keywordColumnOf(res[k++]!.tags) },
          );
        },
      ),
  );
}
