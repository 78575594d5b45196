// Training pairs for the BioAug generator: (corrupted sentence + knowledge, linearized sentence).
// The engine writes these itself so corruption has one implementation (training and serving).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import type { Rng } from '../../engine/rng.ts';
import { fanOutCopies } from '../operator.ts';
import type { SentenceToAugment } from '../types.ts';
import { CorruptConfig, corruptSentence } from './corrupt.ts';
import type { KeywordTagger } from './keywords.ts';
import { verbalizeKnowledge, type KnowledgeSource } from './knowledge.ts';
import { linearize } from './linearize.ts';

/** One fine-tuning pair as `bioaug-stream training-pairs` writes it to JSONL (snake_case; the Avro TrainingPair record is another shape). */
export interface TrainingPairJson {
  /** `<source_id>:pair:<n>`. */
  id: string;
  source_id: string;
  n: number;
  /** Corrupted, linearized sentence followed by ` </s> head relation tail` knowledge segments. */
  input: string;
  /** The whole sentence linearized: what the generator learns to produce. */
  target: string;
}

/** What a pair needs besides the sentence. */
export interface PairContext {
  corrupt?: Partial<z.input<typeof CorruptConfig>>;
  knowledge?: KnowledgeSource;
  tagger?: KeywordTagger;
  /** Most triples appended (default 5, as in the BioAug code). */
  maxTriples?: number;
}

/** Makes the n-th training pair of a sentence with `rng`. */
export function makeTrainingPair(
  s: SentenceToAugment,
  n: number,
  rng: Rng,
  ctx: PairContext = {},
): TrainingPairJson {
  const c = corruptSentence(s, rng, ctx.corrupt, ctx.tagger);
  const knowledge = ctx.knowledge ? verbalizeKnowledge(ctx.knowledge(s, c.kept), ctx.maxTriples ?? 5) : '';
  return {
    id: `${s.id}:pair:${n}`,
    source_id: s.id,
    n,
    input: c.sketch.join(' ') + knowledge,
    target: linearize(s.tokens, s.tags),
  };
}

/** Config of the {@link trainingPairs} operator. */
export const TrainingPairsConfig = z.object({
  stepId: z.string().default('training-pairs'),
  n: z.number().int().min(1).max(1000).default(1),
  seed: z.number().int().default(1),
  maxTriples: z.number().int().min(0).default(5),
  corrupt: CorruptConfig.partial().default({}),
});

/** Stream operator: `n` training pairs per sentence, keys `source-id:pair:n`. */
export function trainingPairs(
  config: Partial<z.input<typeof TrainingPairsConfig>> & {
    knowledge?: KnowledgeSource;
    tagger?: KeywordTagger;
  } = {},
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<TrainingPairJson>> {
  const c = TrainingPairsConfig.parse(config);
  const ctx: PairContext = {
    corrupt: c.corrupt,
    knowledge: config.knowledge,
    tagger: config.tagger,
    maxTriples: c.maxTriples,
  };
  return fanOutCopies<TrainingPairJson>(c.stepId, c.n, c.seed, (s, n, rng) =>
    makeTrainingPair(s, n, rng, ctx),
  );
}
