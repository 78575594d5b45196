import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel } from '../batchModel.ts';
import { taggerSource, type TagEntitiesConfig } from '../ner/tagEntities.ts';
import type { Entity, TaggerInput } from '../ner/tokenTagger.ts';

/** A keyword: a domain phrase found by the keyword tagger (labels O, B-KEY, I-KEY). */
export interface Keyword extends Entity {
  text: string;
}

export type KeywordsConfig = TagEntitiesConfig & {
  /** Drop keywords overlapping these token spans (e.g. gold entities), as BioAug selects non-entity phrases. */
  excludeSpans?: (value: unknown) => [number, number][];
};

/** Keyword extraction over tokenized sentences: the keyword bundle through the same batched tagger. */
export function extractKeywords<S extends TaggerInput>(
  config: KeywordsConfig,
): OperatorFunction<Envelope<S>, Envelope<S & { keywords: Keyword[] }>> {
  const step = config.stepId ?? 'keywords';
  const get = taggerSource(config, step);
  const { tagger: _t, model: _m, taggerOptions: _o, excludeSpans, ...batch } = config;
  return batchModel<S, S & { keywords: Keyword[] }>(
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
  );
}
