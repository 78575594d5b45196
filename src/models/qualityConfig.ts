// The `quality:` block of the augment and ingest topologies: which tagger scores agreement (if any) and
// the filter on the scores (src/augment/filterAugmented.ts). One schema, so both topologies read alike.
import { z } from 'zod';
import { FilterAugmentedConfig } from '../augment/filterAugmented.ts';
import { ModelStepConfig } from './modelStepConfig.ts';

/** Config of the quality steps; `enabledByDefault` is the tagger's default (off in augment, on in ingest). */
export function qualityConfig(enabledByDefault: boolean) {
  return z
    .object({
      /**
       * NER bundle whose agreement with each record's labels becomes `taggerAgreement`. It must have
       * seen no more gold than the augmentation's source data, or the score leaks that gold.
       */
      tagger: ModelStepConfig.extend({
        enabled: z
          .boolean()
          .default(enabledByDefault)
          .describe("score each record's agreement with a NER bundle's tags (taggerAgreement)"),
      }).prefault({}),
      /** Thresholds and top-k per source sentence; the default passes every valid record. */
      filter: FilterAugmentedConfig.omit({ stepId: true, copiesPerSource: true, emitInvalid: true }).prefault(
        {},
      ),
    })
    .strict()
    .prefault({});
}
