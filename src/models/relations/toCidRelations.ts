// The records of the CID step: one RelationTriple per chemical-induced-disease pair of an abstract at or
// above the threshold, keyed `pmid:cid:<chemical>:<disease>` (stable, so consumers can compact), with
// the concept ids on both arguments and the mention pairs it was read from as evidence.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { flatMapStep } from '../../engine/step.ts';
import type { RelationTriple } from '../../io/avro/types.generated.ts';
import type { CidRelation } from './cidClassifier.ts';
import type { CidOutput } from './extractCidRelations.ts';

/** Config of {@link toCidRelations}. */
export const ToCidRelationsConfig = z
  .object({
    stepId: z.string().min(1).default('to-cid-relations'),
    /** Emit pairs at or above this probability; default: the model's threshold (picked on dev). */
    minProbability: z.number().min(0).max(1).optional(),
  })
  .strict();

/** The RelationTriple of one scored CID pair (arguments at the closest evidence mention pair). */
export function cidRelationRecord(r: CidRelation, modelId: string, now = Date.now()): RelationTriple {
  const e = r.evidence[0];
  return {
    sourceId: r.pmid,
    head: {
      text: r.chemicalText,
      type: 'Chemical',
      start: e?.chemicalStart ?? -1,
      end: e?.chemicalEnd ?? -1,
      conceptId: r.chemical,
    },
    relation: 'CID',
    tail: {
      text: r.diseaseText,
      type: 'Disease',
      start: e?.diseaseStart ?? -1,
      end: e?.diseaseEnd ?? -1,
      conceptId: r.disease,
    },
    probability: r.probability,
    modelId,
    evidence: r.evidence.map((x) => ({
      headSentence: x.chemicalSentence,
      headStart: x.chemicalStart,
      headEnd: x.chemicalEnd,
      tailSentence: x.diseaseSentence,
      tailStart: x.diseaseStart,
      tailEnd: x.diseaseEnd,
    })),
    createdAt: now,
  };
}

/** Fans each abstract out into its CID relation records, most probable first (none: the abstract is acked). */
export function toCidRelations<D extends { pmid: string; cid: CidOutput }>(
  config: z.input<typeof ToCidRelationsConfig> = {},
): OperatorFunction<Envelope<D>, Envelope<RelationTriple>> {
  const c = ToCidRelationsConfig.parse(config);
  return flatMapStep<D, RelationTriple>(
    c.stepId,
    (d) => {
      const min = c.minProbability ?? d.cid.threshold;
      const now = Date.now();
      return d.cid.relations
        .filter((r) => r.probability >= min)
        .sort((a, b) => b.probability - a.probability)
        .map((r) => cidRelationRecord(r, d.cid.modelId, now));
    },
    (r) => `${r.sourceId}:cid:${r.head.conceptId ?? ''}:${r.tail.conceptId ?? ''}`,
  );
}
