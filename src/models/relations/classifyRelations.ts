import type { OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel, type BatchInit } from '../batchModel.ts';
import { withModel } from '../withModel.ts';
import {
  createRelationClassifier,
  type PhrasePair,
  type RelationClassifier,
  type RelationClassifierConfig,
  type RelationInput,
  type RelationOutput,
} from './relationClassifier.ts';

/** A phrase pair with the classifier's label and probability (toRelationTriples makes the RelationTriple record of it). */
export type ClassifiedPair = PhrasePair & RelationOutput;

export type ClassifyRelationsInit = Omit<BatchInit, 'stepId' | 'bucketBy'> & {
  stepId?: string;
  /** An injected classifier (caller disposes) or a bundle folder loaded on first use. */
  classifier?: RelationClassifier | Promise<RelationClassifier>;
  model?: string;
  options?: z.input<typeof RelationClassifierConfig>;
};

/** Relation classification over envelopes of sentences with phrase pairs; batches are sentences, rows pairs. */
export function classifyRelations<S extends RelationInput>(
  config: ClassifyRelationsInit,
): OperatorFunction<Envelope<S>, Envelope<S & { relations: ClassifiedPair[] }>> {
  const step = config.stepId ?? 'relations';
  const { classifier, model, options, ...batch } = config;
  return withModel(
    step,
    classifier,
    model ? () => createRelationClassifier(model, { stepId: step, ...options }) : undefined,
    (get) =>
      batchModel<S, S & { relations: ClassifiedPair[] }>(
        { ...batch, stepId: step, bucketBy: (v) => (v as S).tokens.length },
        async (items) => {
          const res = await (await get()).predict(items);
          return items.map((s, i) => ({
            ...s,
            relations: s.pairs.map((pair, k) => ({ ...pair, ...res[i]![k]! })),
          }));
        },
      ),
  );
}
