// The fan-out shared by every augmenter operator: n copies per input, each with its own share of
// the input's ack token and a stable key `source-id:method:n`.
import { Observable, type OperatorFunction } from 'rxjs';
import { derive, type Envelope } from '../engine/envelope.ts';
import { createRng, type Rng } from '../engine/rng.ts';
import type { AugmentedSentence, LabeledSentence } from './types.ts';

/** Makes the n-th copy of a sentence from its own forked rng. */
export type CopyMaker<O> = (s: LabeledSentence, n: number, rng: Rng) => O;

/**
 * Builds an operator emitting `n` augmented copies per sentence. Randomness is forked from
 * (seed, sentence id, copy index), so output does not depend on arrival order. A sentence that
 * fails is nacked with `stepId` and produces nothing; the stream goes on.
 */
export function fanOutCopies<O extends { id: string } = AugmentedSentence>(
  stepId: string,
  n: number,
  seed: number,
  make: CopyMaker<O>,
): OperatorFunction<Envelope<LabeledSentence>, Envelope<O>> {
  return (source) =>
    new Observable<Envelope<O>>((sub) => {
      const root = createRng(seed);
      return source.subscribe({
        next(env) {
          let copies: O[];
          try {
            const rng = root.fork(env.value.id);
            copies = [];
            for (let i = 0; i < n; i++) copies.push(make(env.value, i, rng.fork(i)));
          } catch (e) {
            env.ack.nack(e, 'augment', stepId);
            return;
          }
          const tokens = env.ack.split(copies.length);
          copies.forEach((c, i) => sub.next(derive(env, c, tokens[i]!, c.id)));
        },
        error: (e: unknown) => sub.error(e),
        complete: () => sub.complete(),
      });
    });
}
