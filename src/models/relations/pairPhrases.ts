// The pairs the relation classifier reads: BioAug's knowledge links gold entities with keywords, so
// entity-keyword pairs come first, then entity-entity pairs, capped per sentence (bounded model work).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { mapStep } from '../../engine/step.ts';
import type { PhrasePair } from './relationClassifier.ts';

/** A token span [tokenStart, tokenEnd) of an entity or keyword. */
export interface TokenSpan {
  tokenStart: number;
  tokenEnd: number;
}

/** Config of {@link pairPhrases}; every field has a default. */
export const PairPhrasesConfig = z
  .object({
    stepId: z.string().min(1).default('relation-pairs'),
    /** Most pairs per sentence. */
    maxPairs: z.number().int().min(1).max(1000).default(24),
  })
  .strict();

/** Entity-keyword pairs first, then entity-entity (both orders), at most `cap`. */
export function phrasePairs(
  s: { entities: readonly TokenSpan[]; keywords: readonly TokenSpan[] },
  cap: number,
): PhrasePair[] {
  const ents = s.entities.map((e) => [e.tokenStart, e.tokenEnd] as [number, number]);
  const kws = s.keywords.map((k) => [k.tokenStart, k.tokenEnd] as [number, number]);
  const out: PhrasePair[] = [];
  for (const e of ents) for (const k of kws) out.push({ head: e, tail: k });
  for (let i = 0; i < ents.length; i++)
    for (let j = 0; j < ents.length; j++) if (i !== j) out.push({ head: ents[i]!, tail: ents[j]! });
  return out.slice(0, cap);
}

/** Adds the phrase pairs to classify to each sentence (1:1, same key and ack token). */
export function pairPhrases<S extends { entities: readonly TokenSpan[]; keywords: readonly TokenSpan[] }>(
  config: Partial<z.input<typeof PairPhrasesConfig>> = {},
): OperatorFunction<Envelope<S>, Envelope<S & { pairs: PhrasePair[] }>> {
  const c = PairPhrasesConfig.parse(config);
  return mapStep(c.stepId, (s) => ({ ...s, pairs: phrasePairs(s, c.maxPairs) }));
}
