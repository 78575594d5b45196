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
  tokens: string[];
  tags: string[];
}

/** A label-preserving augmenter: one copy of `s` drawn with `rng`. Pure apart from the rng. */
export type Augment = (s: LabeledSentence, rng: Rng) => { tokens: string[]; tags: string[] };

/** A typed augmentation error; `retriable` is false because the input or config is wrong. */
export class AugmentError extends Error {
  readonly retriable = false;
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'AugmentError';
  }
}

/** Key and id of the n-th augmented copy of a sentence. */
export function augmentedId(sourceId: string, method: string, n: number): string {
  return `${sourceId}:${method}:${n}`;
}
