// ner-relations: ner-tagging plus document-level relations, for users who want entities, concepts and
// relations without augmentation. Abstracts -> sentences -> tokens -> NER -> document-level rules ->
// MeSH normalization -> one NerPrediction per sentence (keyed `pmid:sentence-index`) and the
// chemical-induced-disease relations of each abstract (RelationTriple, keyed `pmid:cid:<chem>:<dis>`).
import { merge, pipe } from 'rxjs';
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
import { extractCidRelations } from '../src/models/relations/extractCidRelations.ts';
import { toCidRelations } from '../src/models/relations/toCidRelations.ts';
import { splitSentences } from '../src/text/splitSentences.ts';
import { styleFor } from '../src/text/tokenize.ts';
import { tokenizeWords } from '../src/text/tokenizeWords.ts';
import { validateArticle } from '../src/text/validateArticle.ts';

/** Config of the ner-relations topology; every field has a default. */
export const NerRelationsConfig = z
  .object({
    ner: ModelStepConfig.prefault({}),
    requireAbstract: z.boolean().default(true),
    tokenizerStyle: z.string().default('split'),
    bridgeHyphens: z.boolean().default(true),
    document: DocumentStageConfig.prefault({}),
    /** MeSH normalization (bundle default models/normalize-cdr). */
    normalize: NormalizeConceptsConfig.prefault({}),
    /** The CID relation model (bundle default models/cid-relations). */
    cid: ModelStepConfig.prefault({}),
    /** Relations at or above this probability are emitted; default: the bundle's threshold (picked on dev). */
    minCidProbability: z.number().min(0).max(1).optional(),
  })
  .strict();
export type NerRelationsConfig = z.output<typeof NerRelationsConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = NerRelationsConfig;

/** What build() takes: the config (the bundles load on first use). */
export type NerRelationsInputs = Partial<z.input<typeof NerRelationsConfig>>;

/** Names of the streams and sinks this topology uses. */
export const io = {
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
  const model = c.ner.model ?? defaultModel('ner-bc5cdr');
  const documents = abstracts.pipe(
    validateArticle({ requireAbstract: c.requireAbstract }),
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
  const b = branches(documents, ['predictions', 'relations'] as const);
  return merge(
    b.predictions.pipe(documentSentences(), toPrediction({ modelId: modelIdOf(model) }), predictions.write()),
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
