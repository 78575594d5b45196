import { defer, finalize, type OperatorFunction } from 'rxjs';
import type { Envelope } from '../engine/envelope.ts';
import { asStep } from '../engine/graph.ts';
import { ModelError } from './errors.ts';

/**
 * Gives an operator its model per subscription: an injected one (the caller owns and disposes it), or one
 * loaded on the first batch from a bundle folder and disposed when the stream finalizes.
 */
export function withModel<M extends { dispose(): Promise<void> }, A, B>(
  step: string,
  injected: M | Promise<M> | undefined,
  load: (() => Promise<M>) | undefined,
  make: (get: () => Promise<M>) => OperatorFunction<Envelope<A>, Envelope<B>>,
): OperatorFunction<Envelope<A>, Envelope<B>> {
  if (!injected && !load)
    throw new ModelError('config', `${step}: config needs an injected model or "model" (a bundle folder)`);
  // The model step is one node of the topology graph (its batches are wired at subscribe time).
  return asStep(step, (source) =>
    defer(() => {
      let p: Promise<M> | null = null;
      const get = (): Promise<M> => (p ??= injected ? Promise.resolve(injected) : load!());
      return source.pipe(
        make(get),
        finalize(() => {
          if (!injected && p) p.then((m) => m.dispose()).catch(() => undefined);
        }),
      );
    }),
  );
}
