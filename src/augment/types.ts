// Shapes shared by every augmenter and the operators that expose them.
import type { Rng } from '../engine/rng.ts';

/** A gold-labeled sentence: the input of every augmenter. */
export interface LabeledSentence {
  /** Stable id (e.g. `train.conll:12` or `pmid:3`); per-sentence randomness is forked from it. */
  id: string;
  tokens: string[];
  /** Strict BIO tags, one per token. */
  tags: string[];
  /** Optional keyword BIO column (`B`/`I`/`O`, types ignored): BioAug's keyword source. */
  keywords?: string[];
  /** The same column as named by the Avro LabeledSentence schema (used when `keywords` is absent). */
  keywordTags?: string[] | null;
  /** 1-based line of the first token in the source file, when read from one (named in errors). */
  line?: number;
}

/** The augmentation methods the engine implements. */
export const METHODS = ['mr', 'lwtr', 'sis', 'sr', 'all4', 'corrupt'] as const;
/** One of {@link METHODS}. */
export type Method = (typeof METHODS)[number];

/** One augmented copy of a sentence. */
export interface AugmentedSentence {
  /** `<sourceId>:<method>:<n>`: stable so downstream consumers can deduplicate. */
  id: string;
  sourceId: string;
  /** The method that produced this copy (for all4, the concrete method chosen). */
  method: string;
  n: number;
  /** The seed of the run (the copy's rng is forked from it, the sentence id and n). */
  seed: number;
  tokens: string[];
  tags: string[];
  /** Label-preserving methods always produce valid copies; BioAug generation may not. */
  valid: boolean;
  /** Share of output tokens absent from the source sentence (a cheap diversity figure). */
  newTokenShare: number;
  /** Output length minus input length, in tokens. */
  lengthDiff: number;
  modelId: string | null;
  generatedText: string | null;
}

/** A label-preserving augmenter: one copy of `s` drawn with `rng`. Pure apart from the rng. */
export type Augment = (s: LabeledSentence, rng: Rng) => { tokens: string[]; tags: string[] };

/** Key and id of the n-th augmented copy of a sentence. */
export function augmentedId(sourceId: string, method: string, n: number): string {
  return `${sourceId}:${method}:${n}`;
}

/**
 * Builds the n-th copy record (fields of the Avro AugmentedSentence, createdAt left to the sink).
 * `keyMethod` names the operator in the id (e.g. all4); `method` the method actually applied.
 */
export function makeCopy(
  s: LabeledSentence,
  keyMethod: string,
  method: string,
  n: number,
  seed: number,
  out: { tokens: string[]; tags: string[] },
): AugmentedSentence {
  const src = new Set(s.tokens);
  let fresh = 0;
  for (const t of out.tokens) if (!src.has(t)) fresh++;
  return {
    id: augmentedId(s.id, keyMethod, n),
    sourceId: s.id,
    method,
    n,
    seed,
    tokens: out.tokens,
    tags: out.tags,
    valid: true,
    newTokenShare: out.tokens.length === 0 ? 0 : fresh / out.tokens.length,
    lengthDiff: out.tokens.length - s.tokens.length,
    modelId: null,
    generatedText: null,
  };
}
