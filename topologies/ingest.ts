// ingest: the whole design. Abstracts -> sentences -> NER (silver labels) -> document-level rules and
// MeSH normalization over each whole abstract, then per abstract its chemical-induced-disease (CID)
// relations between concepts, and per sentence the NER prediction (with concept ids), BioAug
// augmentations of the silver-labeled sentence, and generator training pairs (corruption + knowledge
// from the silver UMLS relations among entities and keywords, linearized target). The UMLS classifier
// only feeds that knowledge: its triples are not published as relation findings (its card reports
// 7.39 macro-F1 against silver labels); the `relations` output carries the CID relations, scored on
// the CDR dev abstracts (models/cid-relations/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { merge } from 'rxjs';
import { z } from 'zod';
import { CorruptConfig } from '../src/augment/bioaug/corrupt.ts';
import { corruptSentences } from '../src/augment/bioaug/corruptSentences.ts';
import { silverTrainingPairs, toSilverSentences } from '../src/augment/bioaug/silverSentences.ts';
import { filterAugmented } from '../src/augment/filterAugmented.ts';
import { branches } from '../src/engine/branch.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { requireSink, requireStream, type TopologyOutput } from '../src/engine/topology.ts';
import type {
  AugmentedSentence,
  NerPrediction,
  PubmedArticle,
  RelationTriple,
  TrainingPair,
} from '../src/io/avro/types.generated.ts';
import { extractKeywords } from '../src/models/keywords/extractKeywords.ts';
import {
  backend,
  batching,
  defaultModel,
  ModelStepConfig,
  modelIdOf,
} from '../src/models/modelStepConfig.ts';
import { documentSentences } from '../src/models/ner/documentSentences.ts';
import { scoreAgreement } from '../src/models/ner/scoreAgreement.ts';
import { toPrediction } from '../src/models/ner/toPrediction.ts';
import { qualityConfig } from '../src/models/qualityConfig.ts';
import { classifyRelations } from '../src/models/relations/classifyRelations.ts';
import { extractCidRelations } from '../src/models/relations/extractCidRelations.ts';
import { pairPhrases } from '../src/models/relations/pairPhrases.ts';
import { toCidRelations } from '../src/models/relations/toCidRelations.ts';
import { BioaugConfig, generateFromCorruptions } from '../src/models/seq2seq/generateFromCorruptions.ts';
import { nerModelOf, tagAbstracts, TagAbstractsConfig } from '../src/models/tagAbstracts.ts';

/** Config of the ingest topology. */
export const IngestConfig = z
  .object({
    // ner-tagging's steps: ner, requireAbstract, tokenizerStyle, bridgeHyphens, document, normalize.
    ...TagAbstractsConfig.shape,
    keywords: ModelStepConfig.prefault({}),
    relations: ModelStepConfig.prefault({}),
    /** The CID relation model (bundle default models/cid-relations). */
    cid: ModelStepConfig.prefault({}),
    /** CID relations at or above this probability are emitted; default: the bundle's threshold (picked on dev). */
    minCidProbability: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("CID relations at or above this probability are emitted; unset: the bundle's threshold"),
    /** Most entity-keyword (and entity-entity) pairs classified per sentence. */
    maxPairsPerSentence: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(24)
      .describe('most entity-keyword (and entity-entity) pairs classified per sentence'),
    /** UMLS relations below this probability (and NA) are not used as knowledge. */
    minRelationProbability: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('UMLS relations below this probability (and NA) are not used as knowledge'),
    /** Sentences without any entity produce no augmentations or pairs (nothing to keep). */
    augmentOnlyWithEntities: z
      .boolean()
      .default(true)
      .describe('sentences without any entity produce no augmentations or pairs'),
    // Entity-constrained decoding by default: ~100% of generations valid, same F1 effect as free decoding
    // in the augmentation study (docs/results/README.md); set constrainEntities: false for BioAug as published.
    bioaug: BioaugConfig.extend({
      n: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(2)
        .describe('corrupted copies (and so generations) per sentence'),
      constrainEntities: z
        .boolean()
        .default(true)
        .describe("constrained decoding: the generator must write the sentence's gold entities, in order"),
    }).prefault({}),
    /**
     * Quality scores and filters of the augmentations. The agreement tagger defaults to the NER step's
     * own bundle: the labels being augmented are its silver labels, so it sees no gold they lack.
     */
    quality: qualityConfig(true),
    /** Training pairs per sentence. */
    pairs: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(1)
      .describe('training pairs (corrupted input, linearized target) per sentence'),
    maxTriples: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe('most verbalized relation triples appended to a training pair'),
    corrupt: CorruptConfig.partial().default({}),
  })
  .strict();
export type IngestConfig = z.output<typeof IngestConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = IngestConfig;

/** What build() takes: the config plus the relation bundle's verbalization map (from its model.json). */
export type IngestInputs = Partial<z.input<typeof IngestConfig>> & { verbalize: Record<string, string> };

/** Names of the source streams and sinks build() takes, and the record each sink writes. */
export const streamNames = {
  sources: ['abstracts'],
  sinks: ['predictions', 'relations', 'augmented', 'pairs'],
  sinkSchemas: {
    predictions: 'NerPrediction',
    relations: 'RelationTriple',
    augmented: 'AugmentedSentence',
    pairs: 'TrainingPair',
  },
} as const;

/** The relation bundle's verbalization map (model.json `verbalize`), empty when it has none. */
export function readVerbalization(dir: string): Record<string, string> {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return {};
  try {
    const mj = JSON.parse(readFileSync(file, 'utf8')) as { verbalize?: Record<string, string> };
    return mj.verbalize ?? {};
  } catch {
    // A broken model.json is reported by the relation step when it loads the bundle.
    return {};
  }
}

/** Reads what the config names (the relation bundle's model.json) into build()'s inputs. */
export async function resolve(config: unknown = {}): Promise<IngestInputs> {
  const c = IngestConfig.parse(config);
  return {
    ...c,
    verbalize: readVerbalization(c.relations.model ?? defaultModel('relations')),
  };
}

/** Builds the topology: abstracts in; predictions, relations, augmentations and training pairs written. */
export function build(sources: SourceStreams, sinks: SinkMap, inputs: IngestInputs): TopologyOutput {
  const { verbalize, ...config } = inputs;
  const c = IngestConfig.parse(config);
  const abstracts = requireStream<PubmedArticle>(sources, 'abstracts', 'ingest');
  const out = {
    predictions: requireSink<NerPrediction>(sinks, 'predictions', 'ingest'),
    relations: requireSink<RelationTriple>(sinks, 'relations', 'ingest'),
    augmented: requireSink<AugmentedSentence>(sinks, 'augmented', 'ingest'),
    pairs: requireSink<TrainingPair>(sinks, 'pairs', 'ingest'),
  };
  const ner = nerModelOf(c);
  const relationModel = c.relations.model ?? defaultModel('relations');
  const { n, corrupt, emitInvalid, ...generation } = c.bioaug;
  const agreement = c.quality.tagger;

  // validate -> split -> tokenize -> NER -> document rules -> MeSH normalization, one document per abstract
  const documents = abstracts.pipe(tagAbstracts(c));
  const d = branches(documents, ['cid', 'sentences'] as const);
  const relations = d.cid.pipe(
    extractCidRelations({
      stepId: 'cid-relations',
      model: c.cid.model ?? defaultModel('cid-relations'),
      options: { stepId: 'cid-relations', backend: backend(c.cid) },
      ...batching(c.cid),
    }),
    toCidRelations(c.minCidProbability === undefined ? {} : { minProbability: c.minCidProbability }),
    out.relations.write(),
  );

  const analyzed = d.sentences.pipe(
    documentSentences(),
    extractKeywords({
      stepId: 'keywords',
      model: c.keywords.model ?? defaultModel('keywords'),
      taggerOptions: { stepId: 'keywords', backend: backend(c.keywords) },
      // BioAug's keywords are domain phrases that are not entities.
      excludeSpans: (v) =>
        (v as { entities: { tokenStart: number; tokenEnd: number }[] }).entities.map((e) => [
          e.tokenStart,
          e.tokenEnd,
        ]),
      ...batching(c.keywords),
    }),
    pairPhrases({ maxPairs: c.maxPairsPerSentence }),
    classifyRelations({
      stepId: 'relations',
      model: relationModel,
      options: {
        stepId: 'relations',
        maxPairsPerSentence: c.maxPairsPerSentence,
        backend: backend(c.relations),
      },
      ...batching(c.relations),
    }),
  );
  const b = branches(analyzed, ['predictions', 'augmented', 'pairs'] as const);

  return merge(
    b.predictions.pipe(toPrediction({ modelId: modelIdOf(ner) }), out.predictions.write()),
    relations,
    b.augmented.pipe(
      toSilverSentences({ onlyWithEntities: c.augmentOnlyWithEntities }),
      corruptSentences({ stepId: 'bioaug-corrupt', n, seed: generation.seed, corrupt }),
      // Every copy reaches the filter (invalid ones counted there), so top-k groups complete.
      generateFromCorruptions({ ...generation, emitInvalid: true }),
      agreement.enabled
        ? scoreAgreement({
            stepId: 'agreement',
            model: agreement.model ?? ner,
            taggerOptions: { stepId: 'agreement', backend: backend(agreement) },
            ...batching(agreement),
          })
        : (s) => s,
      filterAugmented({ ...c.quality.filter, copiesPerSource: n, emitInvalid }),
      out.augmented.write(),
    ),
    b.pairs.pipe(
      silverTrainingPairs({
        n: c.pairs,
        seed: generation.seed,
        maxTriples: c.maxTriples,
        corrupt: c.corrupt,
        minRelationProbability: c.minRelationProbability,
        verbalize,
        onlyWithEntities: c.augmentOnlyWithEntities,
      }),
      out.pairs.write(),
    ),
  );
}
