// An augmenter's copy (src/augment/types.ts) as the AugmentedSentence record the topologies write.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { mapStep } from '../engine/step.ts';
import type { AugmentedSentence } from '../io/avro/types.generated.ts';
import type { AugmentedCopy } from './types.ts';

/** Config of {@link toAugmentedRecord}; every field has a default. */
export const ToAugmentedRecordConfig = z.object({ stepId: z.string().min(1).default('to-record') }).strict();

/** The record of one copy: its fields in the schema's order, stamped with the time it was made. */
export function augmentedRecordOf(a: AugmentedCopy): AugmentedSentence {
  return {
    id: a.id,
    sourceId: a.sourceId,
    method: a.method,
    seed: a.seed,
    modelId: a.modelId,
    tokens: a.tokens,
    tags: a.tags,
    valid: a.valid,
    newTokenShare: a.newTokenShare,
    lengthDiff: a.lengthDiff,
    generatedText: a.generatedText,
    createdAt: Date.now(),
    meanLogProb: a.meanLogProb,
    taggerAgreement: a.taggerAgreement,
    quality: a.quality,
    rejectReason: a.rejectReason,
  };
}

/** Maps augmenter copies to AugmentedSentence records (1:1, same key and ack token). */
export function toAugmentedRecord(
  config: Partial<z.input<typeof ToAugmentedRecordConfig>> = {},
): OperatorFunction<Envelope<AugmentedCopy>, Envelope<AugmentedSentence>> {
  const c = ToAugmentedRecordConfig.parse(config);
  return mapStep(c.stepId, augmentedRecordOf);
}
