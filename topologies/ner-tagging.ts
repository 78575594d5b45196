// ner-tagging: PubMed abstracts -> sentences -> tokens -> NER -> document-level rules over each whole
// abstract (abbreviations, consistency, brackets) -> MeSH normalization -> one NerPrediction per
// sentence, with entity offsets into title + " " + abstract (the PubTator convention) and concept ids,
// keyed `pmid:sentence-index`.
import { pipe } from 'rxjs';
import { z } from 'zod';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { requireSink, requireStream, type TopologyOutput } from '../src/engine/topology.ts';
import type { NerPrediction, PubmedArticle } from '../src/io/avro/types.generated.ts';
import {
  backend,
  batching,
  defaultModel,
  ModelStepConfig,
  modelIdOf,
} from '../src/models/modelStepConfig.ts';
import { balanceBrackets } from '../src/models/ner/balanceBrackets.ts';
import { bridgeHyphens } from '../src/models/ner/bridgeHyphens.ts';
import { DocumentStageConfig } from '../src/models/ner/documentStageConfig.ts';
import { documentSentences } from '../src/models/ner/documentSentences.ts';
import { harmonizeMentions } from '../src/models/ner/harmonizeMentions.ts';
import { joinCodeNames } from '../src/models/ner/joinCodeNames.ts';
import { regroupSentences } from '../src/models/ner/regroupSentences.ts';
import { resolveAbbreviations } from '../src/models/ner/resolveAbbreviations.ts';
import { tagEntities } from '../src/models/ner/tagEntities.ts';
import { toPrediction } from '../src/models/ner/toPrediction.ts';
import { toTaggerInput } from '../src/models/ner/toTaggerInput.ts';
import { NormalizeConceptsConfig, normalizeConcepts } from '../src/models/normalize/normalizeConcepts.ts';
import { splitSentences } from '../src/text/splitSentences.ts';
import { styleFor } from '../src/text/tokenize.ts';
import { tokenizeWords } from '../src/text/tokenizeWords.ts';
import { validateArticle } from '../src/text/validateArticle.ts';

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
    /** Re-join entity parts split at a glued hyphen (src/models/ner/bridgeHyphens.ts). */
    bridgeHyphens: z.boolean().default(true),
    /**
     * The document-level stage over each whole abstract, one block per rule with an `enabled` switch
     * (src/models/ner/documentStageConfig.ts; figures in docs/results/document-level.md).
     */
    document: DocumentStageConfig.prefault({}),
    /** MeSH normalization of the entities (src/models/normalize; bundle default models/normalize-cdr). */
    normalize: NormalizeConceptsConfig.prefault({}),
  })
  .strict();
export type NerTaggingConfig = z.output<typeof NerTaggingConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = NerTaggingConfig;

/** What build() takes: the config (nothing to read; the NER bundle loads on the first batch). */
export type NerTaggingInputs = Partial<z.input<typeof NerTaggingConfig>>;

/** Names of the streams and sinks this topology uses. */
export const io = {
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
  const model = c.ner.model ?? defaultModel('ner-bc5cdr');
  const documents = abstracts.pipe(
    validateArticle({ requireAbstract: c.requireAbstract }),
    // Each abstract's sentences are tagged in sentence-level batches, then regrouped into one document.
    regroupSentences(
      pipe(
        splitSentences(),
        tokenizeWords({ style: styleFor(c.tokenizerStyle), offsets: 'document' }),
        toTaggerInput(),
        tagEntities({
          stepId: 'ner',
          model,
          taggerOptions: { stepId: 'ner', backend: backend(c.ner) },
          ...batching(c.ner),
        }),
        bridgeHyphens({ enabled: c.bridgeHyphens }),
      ),
    ),
    resolveAbbreviations(c.document.abbreviations),
    joinCodeNames(c.document.codeNames),
    harmonizeMentions(c.document.consistency),
    balanceBrackets(c.document.brackets),
    normalizeConcepts({ ...c.normalize, model: c.normalize.model ?? defaultModel('normalize-cdr') }),
  );
  return documents.pipe(
    documentSentences(),
    // Entity offsets are document offsets already; slicing the sentence text avoids holding documents.
    toPrediction({ modelId: modelIdOf(model) }),
    predictions.write(),
  );
}
