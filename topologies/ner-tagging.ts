// ner-tagging: PubMed abstracts -> sentences -> tokens -> NER -> one NerPrediction per sentence, with
// entity offsets into title + " " + abstract (the PubTator convention), keyed `pmid:sentence-index`.
import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../src/engine/envelope.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import type { Sink } from '../src/engine/types.ts';
import type { NerPrediction, PubmedArticle } from '../src/io/avro/types.generated.ts';
import { articleStep, requireStream, requireSink, sentencePipeline } from './lib/steps.ts';
import { ModelStepConfig } from './lib/config.ts';

/** Config of the ner-tagging topology; every field has a default. */
export const NerTaggingConfig = z
  .object({
    ner: ModelStepConfig.prefault({}),
    /** Dead-letter abstracts with an empty abstract text (title-only records), as the design asks. */
    requireAbstract: z.boolean().default(true),
    /**
     * Tokenization of raw text fed to the model (a style or corpus name of src/text/tokenize.ts).
     * `split` (every punctuation mark a token) measured best on raw CDR abstracts for the BC5CDR
     * model: see docs/results/document-level.md.
     */
    tokenizerStyle: z.string().default('split'),
    /** Re-join entity parts split at a glued hyphen (topologies/lib/bridgeHyphens.ts). */
    bridgeHyphens: z.boolean().default(true),
  })
  .strict();
export type NerTaggingConfig = z.output<typeof NerTaggingConfig>;

/** Names of the streams and sinks this topology uses. */
export const io = { sources: ['abstracts'], sinks: ['predictions'] } as const;

/** Builds the topology: abstracts in, predictions written (the stream of written predictions out). */
export function build(
  sources: SourceStreams,
  sinks: SinkMap,
  config: Partial<z.input<typeof NerTaggingConfig>> = {},
): Observable<Envelope<NerPrediction>> {
  const c = NerTaggingConfig.parse(config);
  const abstracts = requireStream<PubmedArticle>(sources, 'abstracts', 'ner-tagging');
  const predictions = requireSink<NerPrediction>(sinks, 'predictions', 'ner-tagging') as Sink<NerPrediction>;
  return abstracts.pipe(
    articleStep(c.requireAbstract),
    sentencePipeline({ ner: c.ner, tokenizerStyle: c.tokenizerStyle, bridgeHyphens: c.bridgeHyphens }),
    predictions.write(),
  );
}
