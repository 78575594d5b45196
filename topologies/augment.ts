// augment: gold-labeled sentences -> BioAug (corrupt x n -> generate -> de-linearize/validate) and the
// simple label-preserving methods (MR, LwTR, SiS, SR, all4) -> augmented sentences keyed
// `source-id:method:n`.
import { merge, type Observable } from 'rxjs';
import { z } from 'zod';
import { augmenter } from '../src/augment/augmenter.ts';
import { buildAugmentState, loadAugmentState, type AugmentState } from '../src/augment/state.ts';
import type { AugmentedSentence as SimpleAugmented, LabeledSentence } from '../src/augment/types.ts';
import { readLabeled } from '../src/augment/corpus.ts';
import type { Envelope } from '../src/engine/envelope.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { mapStep } from '../src/engine/step.ts';
import type { AugmentedSentence, LabeledSentence as LabeledRecord } from '../src/io/avro/types.generated.ts';
import { firstBioError } from '../src/text/bio.ts';
import { BioaugConfig, bioaugment } from './lib/bioaug.ts';
import { branches } from './lib/branch.ts';
import { requireSink, requireStream, TopologyInputError } from './lib/steps.ts';

const SIMPLE = ['mr', 'lwtr', 'sis', 'sr', 'all4'] as const;
export const AUGMENT_METHODS = ['bioaug', ...SIMPLE] as const;

/** Config of the augment topology. */
export const AugmentTopologyConfig = z
  .object({
    methods: z.array(z.enum(AUGMENT_METHODS)).min(1).default(['bioaug']),
    /** Copies per sentence and method. */
    n: z.number().int().min(1).max(100).default(5),
    seed: z.number().int().default(1),
    /** Bernoulli probability of each decision of the simple methods. */
    p: z.number().min(0).max(1).default(0.3),
    /** MR/LwTR state: a saved state JSON (`bioaug-stream augment --save-state`) ... */
    state: z.string().optional(),
    /** ... or a CoNLL training set to build it from. */
    train: z.string().optional(),
    wordnetDir: z.string().optional(),
    bioaug: BioaugConfig.omit({ n: true, seed: true }).prefault({}),
  })
  .strict();
export type AugmentTopologyConfig = z.output<typeof AugmentTopologyConfig>;

/** Names of the streams and sinks this topology uses. */
export const io = { sources: ['sentences'], sinks: ['augmented'] } as const;

/** Validates a LabeledSentence record and converts it to the augmenters' shape. */
function toLabeled(r: LabeledRecord): LabeledSentence {
  const step = 'validate-sentence';
  if (typeof r?.id !== 'string' || r.id === '') throw new TopologyInputError(step, 'sentence without an id');
  if (!Array.isArray(r.tokens) || !Array.isArray(r.tags) || r.tokens.length !== r.tags.length)
    throw new TopologyInputError(step, `${r.id}: tokens and tags must be arrays of equal length`);
  if (r.tokens.length === 0) throw new TopologyInputError(step, `${r.id}: empty sentence`);
  const bad = firstBioError(r.tags);
  if (bad >= 0)
    throw new TopologyInputError(step, `${r.id}: invalid BIO tag "${r.tags[bad]}" at token ${bad}`);
  if (r.keywordTags && r.keywordTags.length !== r.tokens.length)
    throw new TopologyInputError(step, `${r.id}: keywordTags length differs from tokens`);
  return { id: r.id, tokens: r.tokens, tags: r.tags, ...(r.keywordTags ? { keywords: r.keywordTags } : {}) };
}

function simpleRecord(
  a: SimpleAugmented,
  seed: number,
  source: ReadonlySet<string> | null,
  sourceLen: number,
): AugmentedSentence {
  const fresh = source ? a.tokens.filter((t) => !source.has(t)).length : 0;
  return {
    id: a.id,
    sourceId: a.sourceId,
    method: a.method,
    seed,
    modelId: null,
    tokens: a.tokens,
    tags: a.tags,
    valid: true,
    newTokenShare: a.tokens.length ? fresh / a.tokens.length : 0,
    lengthDiff: a.tokens.length - sourceLen,
    generatedText: null,
    createdAt: Date.now(),
  };
}

/** Builds the topology: labeled sentences in, augmented sentences written. */
export function build(
  sources: SourceStreams,
  sinks: SinkMap,
  config: Partial<z.input<typeof AugmentTopologyConfig>> = {},
): Observable<Envelope<AugmentedSentence>> {
  const c = AugmentTopologyConfig.parse(config);
  const input = requireStream<LabeledRecord>(sources, 'sentences', 'augment');
  const out = requireSink<AugmentedSentence>(sinks, 'augmented', 'augment');
  const needsState = c.methods.some((m) => m === 'mr' || m === 'lwtr' || m === 'all4');
  let state: AugmentState | undefined;
  if (needsState) {
    if (c.state) state = loadAugmentState(c.state);
    else if (c.train) state = buildAugmentState(readLabeled(c.train));
    else
      throw new TopologyInputError(
        'augment',
        `methods ${c.methods.join(', ')} need MR/LwTR state: set "state" (saved JSON) or "train" (CoNLL file)`,
      );
  }
  const labeled = input.pipe(mapStep('validate-sentence', toLabeled));
  const streams = branches(labeled, c.methods);
  const outputs: Observable<Envelope<AugmentedSentence>>[] = c.methods.map((method) => {
    if (method === 'bioaug') return streams.bioaug.pipe(bioaugment({ ...c.bioaug, n: c.n, seed: c.seed }));
    // Source words (newTokenShare) and length (lengthDiff), held only until the sentence's n copies have passed.
    const lengths = new Map<string, { len: number; words: Set<string>; left: number }>();
    return streams[method].pipe(
      mapStep(`${method}-len`, (s) => {
        lengths.set(s.id, { len: s.tokens.length, words: new Set(s.tokens), left: c.n });
        return s;
      }),
      augmenter({ method, n: c.n, seed: c.seed, p: c.p, state, wordnetDir: c.wordnetDir, stepId: method }),
      mapStep(`${method}-record`, (a) => {
        const l = lengths.get(a.sourceId);
        if (l && --l.left <= 0) lengths.delete(a.sourceId);
        return simpleRecord(a, c.seed, l?.words ?? null, l?.len ?? a.tokens.length);
      }),
    );
  });
  return merge(...outputs).pipe(out.write());
}
