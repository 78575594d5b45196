// The fan-out shared by every augmenter operator: n copies per input, each with its own share of
// the input's ack token and a stable key `source-id:method:n`.
import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../engine/envelope.ts';
import { createRng, type Rng } from '../engine/rng.ts';
import { flatMapStep } from '../engine/step.ts';
import type { AugmentedCopy, SentenceToAugment } from './types.ts';

/** Makes the n-th copy of a sentence from its own forked rng. */
export type CopyMaker<O> = (s: SentenceToAugment, n: number, rng: Rng) => O;

/**
 * Builds an operator emitting `n` augmented copies per sentence. Randomness is forked from
 * (seed, sentence id, copy index), so output does not depend on arrival order. A sentence that
 * fails is nacked with `stepId` (stage `augment`) and produces nothing; the stream goes on.
 */
export function fanOutCopies<O extends { id: string } = AugmentedCopy>(
  stepId: string,
  n: number,
  seed: number,
  make: CopyMaker<O>,
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<O>> {
  // Forks depend only on the seed and their labels, so one root serves every subscription.
  const root = createRng(seed);
  return flatMapStep<SentenceToAugment, O>(
    stepId,
    (s) => {
      const rng = root.fork(s.id);
      const copies: O[] = [];
      for (let i = 0; i < n; i++) copies.push(make(s, i, rng.fork(i)));
      return copies;
    },
    (c) => c.id,
    { stage: 'augment' },
  );
}
