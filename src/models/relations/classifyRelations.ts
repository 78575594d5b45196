import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { batchModel, type BatchConfig } from '../batchModel.ts';
import {
  createRelationClassifier,
  type PhrasePair,
  type RelationClassifier,
  type RelationInput,
  type RelationOptions,
  type RelationOutput,
} from './relationClassifier.ts';

export type RelationTriple = PhrasePair & RelationOutput;

export type ClassifyRelationsConfig = Omit<BatchConfig, 'stepId' | 'bucketBy'> & {
  stepId?: string;
  /** An injected classifier (caller disposes) or a bundle folder loaded on first use. */
  classifier?: RelationClassifier | Promise<RelationClassifier>;
  model?: string;
  options?: RelationOptions;
};

/** Relation classification over envelopes of sentences with phrase pairs; batches are sentences, rows pairs. */
export function classifyRelations<S extends RelationInput>(
  config: ClassifyRelationsConfig,
): OperatorFunction<Envelope<S>, Envelope<S & { relations: RelationTriple[] }>> {
  const step = config.stepId ?? 'relations';
  let p: Promise<RelationClassifier> | null = null;
  const get = (): Promise<RelationClassifier> =>
    (p ??= config.classifier
      ? Promise.resolve(config.classifier)
      : config.model
        ? createRelationClassifier(config.model, { stepId: step, ...config.options })
        : Promise.reject(new Error(`${step}: config needs "classifier" or "model" (a bundle folder)`)));
  const { classifier: _c, model: _m, options: _o, ...batch } = config;
  return batchModel<S, S & { relations: RelationTriple[] }>(
    { ...batch, stepId: step, bucketBy: (v) => (v as S).tokens.length },
    async (items) => {
      const res = await (await get()).predict(items);
      return items.map((s, i) => ({
        ...s,
        relations: s.pairs.map((pair, k) => ({ ...pair, ...res[i]![k]! })),
      }));
    },
  );
}
