// Stream step: document-level chemical-induced-disease relations of each abstract, from its normalized
// entities, through the CID model with dynamic batching (rows = candidate pairs of the abstracts in a
// batch). One abstract in, the same abstract out with `cid` (every candidate scored, and the threshold).
import type { OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel, type BatchInit } from '../batchModel.ts';
import { withModel } from '../withModel.ts';
import {
  createCidClassifier,
  type CidClassifier,
  type CidClassifierConfig,
  type CidResult,
} from './cidClassifier.ts';
import type { CidDocument } from './cidFeatures.ts';

/** The fields of an abstract the step reads: text, sentences (spans) with normalized entities. */
export interface DocumentWithConcepts {
  pmid: string;
  text: string;
  sentences: Array<{
    start: number;
    end: number;
    entities: Array<{ start: number; end: number; type: string; conceptId: string | null }>;
  }>;
}

/** What the step adds: every candidate scored, the model's threshold and id. */
export interface CidOutput extends CidResult {
  threshold: number;
  modelId: string;
}

export type ExtractCidRelationsInit = Omit<BatchInit, 'stepId' | 'bucketBy'> & {
  stepId?: string;
  /** An injected classifier (caller disposes) or a bundle folder loaded on first use. */
  classifier?: CidClassifier | Promise<CidClassifier>;
  model?: string;
  options?: z.input<typeof CidClassifierConfig>;
};

/** The CID model's view of an abstract. */
export function cidDocumentOf(d: DocumentWithConcepts): CidDocument {
  return {
    pmid: d.pmid,
    text: d.text,
    sentences: d.sentences.map((s) => ({ start: s.start, end: s.end })),
    mentions: d.sentences.flatMap((s) =>
      s.entities.map((e) => ({
        start: e.start,
        end: e.end,
        type: e.type,
        conceptId: e.conceptId,
        text: d.text.slice(e.start, e.end),
      })),
    ),
  };
}

/** CID relations over envelopes of abstracts (dynamic batches of abstracts, one model run per batch). */
export function extractCidRelations<D extends DocumentWithConcepts>(
  config: ExtractCidRelationsInit,
): OperatorFunction<Envelope<D>, Envelope<D & { cid: CidOutput }>> {
  const step = config.stepId ?? 'cid-relations';
  const { classifier, model, options, ...batch } = config;
  return withModel(
    step,
    classifier,
    model ? () => createCidClassifier(model, { stepId: step, ...options }) : undefined,
    (get) =>
      batchModel<D, D & { cid: CidOutput }>({ ...batch, stepId: step }, async (docs) => {
        const cls = await get();
        const res = await cls.predict(docs.map(cidDocumentOf));
        return docs.map((d, i) => ({
          ...d,
          cid: { ...res[i]!, threshold: cls.threshold, modelId: cls.modelId },
        }));
      }),
  );
}
