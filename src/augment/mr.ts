// Mention replacement (Dai & Adel 2020): each gold mention is, with probability p, replaced by a
// mention of the same type drawn uniformly from the training pool (lengths may differ).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import type { Rng } from '../engine/rng.ts';
import { bioToSpans } from '../text/bio.ts';
import { fanOutCopies } from './operator.ts';
import type { AugmentState } from './state.ts';
import { makeCopy, type AugmentedCopy, type SentenceToAugment } from './types.ts';
import { checkSentence } from './validate.ts';

/** Replaces each mention with probability `p` by a same-type mention from `state`'s pool. */
export function mentionReplace(
  s: SentenceToAugment,
  state: AugmentState,
  p: number,
  rng: Rng,
): { tokens: string[]; tags: string[] } {
  checkSentence(s, 'mr');
  const tokens: string[] = [];
  const tags: string[] = [];
  let at = 0;
  for (const sp of bioToSpans(s.tags)) {
    for (; at < sp.start; at++) {
      tokens.push(s.tokens[at]!);
      tags.push(s.tags[at]!);
    }
    const pool = state.mentions.get(sp.type);
    let mention = s.tokens.slice(sp.start, sp.end);
    // Draw the Bernoulli even when the pool is empty so one type's pool does not shift others' draws.
    if (rng.bernoulli(p) && pool && pool.length > 0) mention = pool[rng.int(pool.length)]!;
    mention.forEach((t, k) => {
      tokens.push(t);
      tags.push((k === 0 ? 'B-' : 'I-') + sp.type);
    });
    at = sp.end;
  }
  for (; at < s.tokens.length; at++) {
    tokens.push(s.tokens[at]!);
    tags.push(s.tags[at]!);
  }
  return { tokens, tags };
}

/** Config of the {@link mr} operator. */
export const MrConfig = z.object({
  stepId: z.string().default('mr'),
  n: z.number().int().min(1).max(1000).default(1),
  p: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(1),
});

/** Stream operator: `n` mention-replaced copies per sentence, keys `source-id:mr:n`. */
export function mr(
  config: Partial<z.input<typeof MrConfig>> & { state: AugmentState },
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const c = MrConfig.parse(config);
  return fanOutCopies(c.stepId, c.n, c.seed, (s, n, rng) =>
    makeCopy(s, 'mr', 'mr', n, c.seed, mentionReplace(s, config.state, c.p, rng)),
  );
}
