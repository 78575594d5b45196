// Shapes shared by every augmenter and the operators that expose them.
import type { Rng } from '../engine/rng.ts';
import type { AugmentedSentence, LabeledSentence } from '../io/avro/types.generated.ts';
import { qualityOf } from './quality.ts';

/**
 * What an augmenter reads: the LabeledSentence record's id, tokens and strict BIO tags (its
 * per-sentence randomness is forked from the id), its keyword column, and the source line.
 */
export type SentenceToAugment = Pick<LabeledSentence, 'id' | 'tokens' | 'tags'> &
  Partial<Pick<LabeledSentence, 'keywordTags'>> & {
    /** Optional keyword BIO column (`B`/`I`/`O`, types ignored): BioAug's keyword source; `keywordTags` when absent. */
    keywords?: string[];
    /** 1-based line of the first token in the source file, when read from one (named in errors). */
    line?: number;
  };

/** The augmentation methods the engine implements. */
export const METHODS = ['mr', 'lwtr', 'sis', 'sr', 'all4', 'corrupt'] as const;
/** One of {@link METHODS}. */
export type Method = (typeof METHODS)[number];

/**
 * One augmented copy of a sentence: the AugmentedSentence record (id `<sourceId>:<method>:<n>`,
 * stable so consumers can deduplicate) less `createdAt`, which toAugmentedRecord stamps, plus the
 * copy number `n`.
 */
export type AugmentedCopy = Omit<AugmentedSentence, 'createdAt'> & { n: number };

/** A label-preserving augmenter: one copy of `s` drawn with `rng`. Pure apart from the rng. */
export type Augment = (s: SentenceToAugment, rng: Rng) => { tokens: string[]; tags: string[] };

/** Key and id of the n-th augmented copy of a sentence. */
export function augmentedId(sourceId: string, method: string, n: number): string {
  return `${sourceId}:${method}:${n}`;
}

/**
 * Builds the n-th copy record (fields of the Avro AugmentedSentence, createdAt left to the sink).
 * `keyMethod` names the operator in the id (e.g. all4); `method` the method actually applied.
 */
export function makeCopy(
  s: SentenceToAugment,
  keyMethod: string,
  method: string,
  n: number,
  seed: number,
  out: { tokens: string[]; tags: string[] },
): AugmentedCopy {
  const src = new Set(s.tokens);
  let fresh = 0;
  for (const t of out.tokens) if (!src.has(t)) fresh++;
  const copy: AugmentedCopy = {
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
    meanLogProb: null,
    taggerAgreement: null,
    quality: null,
    rejectReason: null,
  };
  return { ...copy, quality: qualityOf(copy) };
}
