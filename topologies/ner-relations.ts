// ner-relations: ner-tagging plus document-level relations, for users who want entities, concepts and
// relations without augmentation. Abstracts -> sentences -> tokens -> NER -> document-level rules ->
// MeSH normalization -> one NerPrediction per sentence (keyed `pmid:sentence-index`) and the
// chemical-induced-disease relations of each abstract (RelationTriple, keyed `pmid:cid:<chem>:<dis>`).
import { merge } from 'rxjs';
import { z } from 'zod';
import { branches } from '../src/engine/branch.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { requireSink, requireStream, type TopologyOutput } from '../src/engine/topology.ts';
import type { NerPrediction, PubmedArticle, RelationTriple } from '../src/io/avro/types.generated.ts';
import {
  backend,
  batching,
  defaultModel,
  ModelStepConfig,
  modelIdOf,
} from '../src/models/modelStepConfig.ts';
import { documentSentences } from '../src/models/ner/documentSentences.ts';
import { toPrediction } from '../src/models/ner/toPrediction.ts';
import { extractCidRelations } from '../src/models/relations/extractCidRelations.ts';
import { toCidRelations } from '../src/models/relations/toCidRelations.ts';
import { nerModelOf, tagAbstracts, TagAbstractsConfig } from '../src/models/tagAbstracts.ts';

/** Config of the ner-relations topology; every field has a default. */
export const NerRelationsConfig = z
  .object({
    // ner-tagging's steps: ner, requireAbstract, tokenizerStyle, bridgeHyphens, document, normalize.
    ...TagAbstractsConfig.shape,
    /** The CID relation model (bundle default models/cid-relations). */
    cid: ModelStepConfig.prefault({}),
    /** Relations at or above this probability are emitted; default: the bundle's threshold (picked on dev). */
    minCidProbability: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("relations at or above this probability are emitted; unset: the bundle's threshold"),
  })
  .strict();
export type NerRelationsConfig = z.output<typeof NerRelationsConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = NerRelationsConfig;

/** What build() takes: the config (the bundles load on first use). */
export type NerRelationsInputs = Partial<z.input<typeof NerRelationsConfig>>;

/** Names of the source streams and sinks build() takes, and the record each sink writes. */
export const streamNames = {
  sources: ['abstracts'],
  sinks: ['predictions', 'relations'],
  sinkSchemas: { predictions: 'NerPrediction', relations: 'RelationTriple' },
} as const;

/** Resolves a config into build()'s inputs: validated, nothing to read. */
export function resolve(config: unknown = {}): Promise<NerRelationsInputs> {
  return Promise.resolve(NerRelationsConfig.parse(config));
}

/** Builds the topology: abstracts in; sentence predictions and abstract-level CID relations written. */
export function build(
  sources: SourceStreams,
  sinks: SinkMap,
  inputs: NerRelationsInputs = {},
): TopologyOutput {
  const c = NerRelationsConfig.parse(inputs);
  const abstracts = requireStream<PubmedArticle>(sources, 'abstracts', 'ner-relations');
  const predictions = requireSink<NerPrediction>(sinks, 'predictions', 'ner-relations');
  const relations = requireSink<RelationTriple>(sinks, 'relations', 'ner-relations');
  // validate -> split -> tokenize -> NER -> document rules -> MeSH normalization, one document per abstract
  const documents = abstracts.pipe(tagAbstracts(c));
  const b = branches(documents, ['predictions', 'relations'] as const);
  return merge(
    b.predictions.pipe(
      documentSentences(),
      toPrediction({ modelId: modelIdOf(nerModelOf(c)) }),
      predictions.write(),
    ),
    b.relations.pipe(
      extractCidRelations({
        stepId: 'cid-relations',
        model: c.cid.model ?? defaultModel('cid-relations'),
        options: { stepId: 'cid-relations', backend: backend(c.cid) },
        ...batching(c.cid),
      }),
      toCidRelations(c.minCidProbability === undefined ? {} : { minProbability: c.minCidProbability }),
      relations.write(),
    ),
  );
}
