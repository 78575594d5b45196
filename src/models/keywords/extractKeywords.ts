import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel } from '../batchModel.ts';
import type { TagEntitiesInit } from '../ner/tagEntities.ts';
import { createTokenTagger, type Entity, type TaggerInput } from '../ner/tokenTagger.ts';
import { withModel } from '../withModel.ts';

/** A keyword: a domain phrase found by the keyword tagger (labels O, B-KEY, I-KEY). */
export interface Keyword extends Entity {
  text: string;
}

export type KeywordsInit = TagEntitiesInit & {
  /** Drop keywords overlapping these token spans (e.g. gold entities), as BioAug selects non-entity phrases. */
  excludeSpans?: (value: unknown) => [number, number][];
};

/** Keyword extraction over tokenized sentences: the keyword bundle through the same batched tagger. */
export function extractKeywords<S extends TaggerInput>(
  config: KeywordsInit,
): OperatorFunction<Envelope<S>, Envelope<S & { keywords: Keyword[] }>> {
  const step = config.stepId ?? 'keywords';
  const { tagger, model, taggerOptions, excludeSpans, ...batch } = config;
  return withModel(
    step,
    tagger,
    model ? () => createTokenTagger(model, { stepId: step, ...taggerOptions }) : undefined,
    (get) =>
      batchModel<S, S & { keywords: Keyword[] }>(
        { ...batch, stepId: step, bucketBy: (v) => (v as S).tokens.length },
        async (items) => {
          const res = await (await get()).predict(items);
          return items.map((s, i) => {
            const excluded = excludeSpans?.(s) ?? [];
            const keywords = (res[i]?.entities ?? [])
              .filter((e) => !excluded.some(([a, b]) => e.tokenStart < b && a < e.tokenEnd))
              .map((e) => ({ ...e, text: s.tokens.slice(e.tokenStart, e.tokenEnd).join(' ') }));
            return { ...s, keywords };
          });
        },
      ),
  );
}
