// Quality scores of an augmented record (schemas/AugmentedSentence.avsc documents each field): how far
// a downstream trainer should trust it. Pure functions, so the generation operator, the tagger step and
// the filters compute the same numbers.
import type { AugmentedSentence } from '../io/avro/types.generated.ts';
import { bioToSpans } from '../text/bio.ts';

/**
 * Strict entity-span F1 between two BIO tag sequences over the same tokens, 1 when neither has an
 * entity. Spans, not tokens: O dominates every sentence, so token accuracy would rate almost any
 * labeling above 0.9 and could not separate a mislabeled output from a correct one.
 */
export function spanAgreement(a: readonly string[], b: readonly string[]): number {
  const key = (s: { start: number; end: number; type: string }): string => `${s.start}:${s.end}:${s.type}`;
  const sa = new Set(bioToSpans([...a]).map(key));
  const sb = new Set(bioToSpans([...b]).map(key));
  if (sa.size === 0 && sb.size === 0) return 1;
  let both = 0;
  for (const k of sa) if (sb.has(k)) both += 1;
  return (2 * both) / (sa.size + sb.size);
}

/**
 * exp(-|lengthDiff| / source length), in (0, 1]: 1 for an output as long as its source, 1/e when the
 * change equals the source's whole length. Garbled generations typically drop or repeat spans, which
 * shows as a length change relative to the sentence, not in absolute tokens.
 */
export function lengthFit(lengthDiff: number, outputLength: number): number {
  const source = Math.max(1, outputLength - lengthDiff);
  return Math.exp(-Math.abs(lengthDiff) / source);
}

/** The components {@link qualityOf} reads. */
export type QualityInputs = Pick<
  AugmentedSentence,
  'valid' | 'tokens' | 'lengthDiff' | 'meanLogProb' | 'taggerAgreement'
>;

/**
 * The combined score: exp(meanLogProb) * taggerAgreement * lengthFit, a missing component counting as
 * 1, 0 for an invalid record. A product of [0, 1] factors, so one failing signal is enough to pull a
 * record down (a fluent sentence whose labels a tagger rejects is still a bad training sentence).
 * exp(meanLogProb) is the generator's geometric-mean token probability (1 / perplexity).
 */
export function qualityOf(r: QualityInputs): number {
  if (!r.valid || r.tokens.length === 0) return 0;
  const fluency = r.meanLogProb === null ? 1 : Math.exp(Math.min(0, r.meanLogProb));
  const agreement = r.taggerAgreement ?? 1;
  return fluency * agreement * lengthFit(r.lengthDiff, r.tokens.length);
}

/** The record with `quality` recomputed from its components. */
export function withQuality<R extends QualityInputs & { quality: number | null }>(r: R): R {
  return { ...r, quality: qualityOf(r) };
}
