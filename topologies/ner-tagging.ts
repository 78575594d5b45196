// ner-tagging: PubMed abstracts -> sentences -> tokens -> NER -> document-level rules over each whole
// abstract (abbreviations, consistency, brackets) -> MeSH normalization -> one NerPrediction per
// sentence, with entity offsets into title + " " + abstract (the PubTator convention) and concept ids,
// keyed `pmid:sentence-index`.
import type { z } from 'zod';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { requireSink, requireStream, type TopologyOutput } from '../src/engine/topology.ts';
import type { NerPrediction, PubmedArticle } from '../src/io/avro/types.generated.ts';
import { modelIdOf } from '../src/models/modelStepConfig.ts';
import { documentSentences } from '../src/models/ner/documentSentences.ts';
import { toPrediction } from '../src/models/ner/toPrediction.ts';
import { nerModelOf, tagAbstracts, TagAbstractsConfig } from '../src/models/tagAbstracts.ts';

/** Config of the ner-tagging topology: that of its steps (src/models/tagAbstracts.ts); all defaulted. */
export const NerTaggingConfig = TagAbstractsConfig;
export type NerTaggingConfig = z.output<typeof NerTaggingConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = NerTaggingConfig;

/** What build() takes: the config (nothing to read; the NER bundle loads on the first batch). */
export type NerTaggingInputs = Partial<z.input<typeof NerTaggingConfig>>;

/** Names of the source streams and sinks build() takes, and the record each sink writes. */
export const streamNames = {
  sources: ['abstracts'],
  sinks: ['predictions'],
  sinkSchemas: { predictions: 'NerPrediction' },
} as const;

/** Resolves a config into build()'s inputs: validated, nothing to read for this topology. */
export async function resolve(config: unknown = {}): Promise<NerTaggingInputs> {
  return NerTaggingConfig.parse(config);
}

/** Builds the topology: abstracts in, predictions written (the stream of written predictions out). */
export function build(sources: SourceStreams, sinks: SinkMap, inputs: NerTaggingInputs = {}): TopologyOutput {
  const c = NerTaggingConfig.parse(inputs);
  const abstracts = requireStream<PubmedArticle>(sources, 'abstracts', 'ner-tagging');
  const predictions = requireSink<NerPrediction>(sinks, 'predictions', 'ner-tagging');
  return abstracts.pipe(
    // validate -> split -> tokenize -> NER -> document rules -> MeSH normalization, one document per abstract
    tagAbstracts(c),
    documentSentences(),
    // Entity offsets are document offsets already; slicing the sentence text avoids holding documents.
    toPrediction({ modelId: modelIdOf(nerModelOf(c)) }),
    predictions.write(),
  );
}
