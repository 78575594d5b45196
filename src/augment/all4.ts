// All four simple augmenters together, as in Dai & Adel 2020's "all" setting: each augmented
// copy comes from ONE method, the methods taken in turn (copy n of a sentence uses method
// (h + n) mod 4, h a hash of the sentence id), so n copies spread evenly over MR, LwTR, SiS, SR
// and over the corpus even when n < 4.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { hash32, type Rng } from '../engine/rng.ts';
import { labelwiseTokenReplace } from './lwtr.ts';
import { mentionReplace } from './mr.ts';
import { fanOutCopies } from './operator.ts';
import { shuffleWithinSegments } from './sis.ts';
import { synonymReplace } from './sr.ts';
import type { AugmentState } from './state.ts';
import { makeCopy, type AugmentedCopy, type SentenceToAugment } from './types.ts';
import { loadSynonyms, type Synonyms } from './wordnet.ts';

/** The simple methods all4 rotates through, in order. */
export const ALL4_METHODS = ['mr', 'lwtr', 'sis', 'sr'] as const;

/** What the simple augmenters need: MR/LwTR state and SR synonyms. */
export interface SimpleContext {
  state: AugmentState;
  synonyms: Pick<Synonyms, 'get'>;
}

/** One copy by a simple method (`mr`, `lwtr`, `sis`, `sr`). */
export function applySimple(
  method: (typeof ALL4_METHODS)[number],
  s: SentenceToAugment,
  ctx: SimpleContext,
  p: number,
  rng: Rng,
): { tokens: string[]; tags: string[] } {
  switch (method) {
    case 'mr':
      return mentionReplace(s, ctx.state, p, rng);
    case 'lwtr':
      return labelwiseTokenReplace(s, ctx.state, p, rng);
    case 'sis':
      return shuffleWithinSegments(s, p, rng);
    case 'sr':
      return synonymReplace(s, ctx.synonyms, p, rng);
  }
}

/** The method all4 uses for copy `n` of sentence `id`. */
export function all4Method(id: string, n: number): (typeof ALL4_METHODS)[number] {
  return ALL4_METHODS[(hash32(id) + n) % 4]!;
}

/** Config of the {@link all4} operator. */
export const All4Config = z.object({
  stepId: z.string().default('all4'),
  n: z.number().int().min(1).max(1000).default(4),
  p: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(1),
  wordnetDir: z.string().optional(),
});

/** Stream operator: `n` copies per sentence, methods in turn; keys `source-id:all4:n`. */
export function all4(
  config: Partial<z.input<typeof All4Config>> & { state: AugmentState; synonyms?: Pick<Synonyms, 'get'> },
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const c = All4Config.parse(config);
  const ctx: SimpleContext = { state: config.state, synonyms: config.synonyms ?? loadSynonyms(c.wordnetDir) };
  return fanOutCopies(c.stepId, c.n, c.seed, (s, n, rng) => {
    const method = all4Method(s.id, n);
    return makeCopy(s, 'all4', method, n, c.seed, applySimple(method, s, ctx, c.p, rng));
  });
}
