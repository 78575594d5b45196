// Shuffle within segments (Dai & Adel 2020): the sentence is cut into segments of one label (each
// mention, each run of O); each segment is, with probability p, shuffled in place. Tags are
// positional, so the tag sequence is unchanged.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import type { Rng } from '../engine/rng.ts';
import { tagType } from '../text/bio.ts';
import { fanOutCopies } from './operator.ts';
import { makeCopy, type AugmentedCopy, type SentenceToAugment } from './types.ts';
import { checkSentence } from './validate.ts';

/** Segments of one label as [start, end): each mention, each maximal run of O. */
export function labelSegments(tags: readonly string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 1; i <= tags.length; i++) {
    const boundary =
      i === tags.length || tags[i]!.startsWith('B-') || tagType(tags[i]!) !== tagType(tags[i - 1]!);
    if (boundary) {
      out.push([start, i]);
      start = i;
    }
  }
  return out;
}

/** Shuffles each same-label segment with probability `p` (Fisher-Yates with `rng`). */
export function shuffleWithinSegments(
  s: SentenceToAugment,
  p: number,
  rng: Rng,
): { tokens: string[]; tags: string[] } {
  checkSentence(s, 'sis');
  const tokens = s.tokens.slice();
  for (const [a, b] of labelSegments(s.tags)) {
    if (!rng.bernoulli(p) || b - a < 2) continue;
    for (let i = b - 1; i > a; i--) {
      const j = a + rng.int(i - a + 1);
      const t = tokens[i]!;
      tokens[i] = tokens[j]!;
      tokens[j] = t;
    }
  }
  return { tokens, tags: s.tags.slice() };
}

/** Config of the {@link sis} operator. */
export const SisConfig = z.object({
  stepId: z.string().default('sis'),
  n: z.number().int().min(1).max(1000).default(1),
  p: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(1),
});

/** Stream operator: `n` SiS copies per sentence, keys `source-id:sis:n`. */
export function sis(
  config: Partial<z.input<typeof SisConfig>> = {},
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const c = SisConfig.parse(config);
  return fanOutCopies(c.stepId, c.n, c.seed, (s, n, rng) =>
    makeCopy(s, 'sis', 'sis', n, c.seed, shuffleWithinSegments(s, c.p, rng)),
  );
}
