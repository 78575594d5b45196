// Label-wise token replacement (Dai & Adel 2020): each token is, with probability p, replaced by a
// token drawn from the training distribution of its own label; the tag sequence is unchanged.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import type { Rng } from '../engine/rng.ts';
import { fanOutCopies } from './operator.ts';
import { sampleToken, type AugmentState } from './state.ts';
import { makeCopy, type AugmentedCopy, type SentenceToAugment } from './types.ts';
import { checkSentence } from './validate.ts';

/** Replaces each token with probability `p` by a draw from its label's token distribution. */
export function labelwiseTokenReplace(
  s: SentenceToAugment,
  state: AugmentState,
  p: number,
  rng: Rng,
): { tokens: string[]; tags: string[] } {
  checkSentence(s, 'lwtr');
  const tokens = s.tokens.slice();
  for (let i = 0; i < tokens.length; i++) {
    if (!rng.bernoulli(p)) continue;
    const d = state.labels.get(s.tags[i]!);
    if (d && d.total > 0) tokens[i] = sampleToken(d, rng);
  }
  return { tokens, tags: s.tags.slice() };
}

/** Config of the {@link lwtr} operator. */
export const LwtrConfig = z.object({
  stepId: z.string().default('lwtr'),
  n: z.number().int().min(1).max(1000).default(1),
  p: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(1),
});

/** Stream operator: `n` LwTR copies per sentence, keys `source-id:lwtr:n`. */
export function lwtr(
  config: Partial<z.input<typeof LwtrConfig>> & { state: AugmentState },
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const c = LwtrConfig.parse(config);
  return fanOutCopies(c.stepId, c.n, c.seed, (s, n, rng) =>
    makeCopy(s, 'lwtr', 'lwtr', n, c.seed, labelwiseTokenReplace(s, config.state, c.p, rng)),
  );
}
