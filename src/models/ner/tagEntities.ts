import type { OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel, type BatchInit } from '../batchModel.ts';
import { withModel } from '../withModel.ts';
import {
  createTokenTagger,
  type TaggerInput,
  type TaggerOutput,
  type TokenTagger,
  type TokenTaggerConfig,
} from './tokenTagger.ts';

/** A sentence tagged by the model: the input plus tags, per-token confidences and entities. */
export type Tagged<S> = S & { tags: string[]; tagScores: number[]; entities: TaggerOutput['entities'] };

export type TagEntitiesInit = Omit<BatchInit, 'stepId' | 'bucketBy'> & {
  stepId?: string;
  /** An already created tagger (injected; the caller disposes it) or a bundle folder loaded on first use. */
  tagger?: TokenTagger | Promise<TokenTagger>;
  model?: string;
  taggerOptions?: Partial<z.input<typeof TokenTaggerConfig>>;
};

/**
 * Batches in flight unless configured: with the session on a worker thread (the tagger's default), the next
 * batch is built and queued while one runs, and the last one's Viterbi and spans overlap the run.
 */
export const TAG_ENTITIES_CONCURRENCY = 2;

/** NER over envelopes of tokenized sentences: dynamic batches through the tagger, bucketed by length. */
export function tagEntities<S extends TaggerInput>(
  config: TagEntitiesInit,
): OperatorFunction<Envelope<S>, Envelope<Tagged<S>>> {
  const step = config.stepId ?? 'ner';
  const { tagger, model, taggerOptions, ...batch } = config;
  return withModel(
    step,
    tagger,
    model ? () => createTokenTagger(model, { stepId: step, ...taggerOptions }) : undefined,
    (get) => {
      // The loaded tagger, once known: predict() is then called synchronously from the batcher, so a batch
      // reaches the session without waiting a microtask behind the previous batch's results.
      let loaded: TokenTagger | undefined;
      // Loaded at subscription, not on the first batch: the session opens on its worker thread while the
      // first sentences are read, split and tokenized. A failed load is reported by the first batch.
      get().catch(() => undefined);
      const cfg = { ...batch, concurrency: batch.concurrency ?? TAG_ENTITIES_CONCURRENCY, stepId: step };
      return batchModel<S, Tagged<S>>({ ...cfg, bucketBy: (v) => (v as S).tokens.length }, async (items) => {
        const t = loaded ?? (loaded = await get());
        const res = await t.predict(items);
        return items.map((s, i) => {
          const r = res[i]!;
          return { ...s, tags: r.tags, tagScores: r.scores, entities: r.entities };
        });
      });
    },
  );
}
