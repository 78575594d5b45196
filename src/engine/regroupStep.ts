// Step primitive: run a part-level sub-pipeline over each item and regroup what it emits for that item
// into one output. The document-level NER stage uses it to tag an abstract's sentences with
// sentence-level batching and then see all of them at once.
//
// How the regroup knows an item is complete: each item enters the sub-pipeline on its own root ack
// token. Fan-outs inside split that token, so it settles exactly when every descendant has settled;
// the regroup acks each output as it collects it, so the token settles once the last output has
// arrived (or something was nacked or dropped). No count of parts is needed, a part that fails is
// noticed as surely as one that arrives, and the item is held only while its own envelope is unacked,
// so memory stays bounded by the source's credits.
import { Observable, Subject, type OperatorFunction } from 'rxjs';
import { AckToken, derive, type Envelope, type Settlement } from './envelope.ts';
import { StreamError } from './errors.ts';
import { metrics } from '../obs/metrics.ts';
import { linkInto, probeSteps } from './graph.ts';

/** An error of the regroup itself (a sub-pipeline that loses or invents items): the item is dead-lettered. */
export class RegroupError extends StreamError {
  constructor(step: string, message: string) {
    super(`${step}: ${message}`, { stage: 'topology', step });
  }
}

interface Group<A, B> {
  env: Envelope<A>;
  outputs: B[];
  started: number;
}

/**
 * Runs `inner` over each item (it may fan out, batch, reorder) and emits, per item, `join(item,
 * outputs)` once everything `inner` derived from the item has arrived, on the item's own ack token
 * and trace id. If `inner` nacks any part, the item is nacked with that failure (it goes to the dead
 * letters whole, nothing of it is emitted); a `join` that throws nacks the item with `stepId`.
 */
export function regroupStep<A, B, C>(
  stepId: string,
  inner: OperatorFunction<Envelope<A>, Envelope<B>>,
  join: (item: A, outputs: B[]) => C,
): OperatorFunction<Envelope<A>, Envelope<C>> {
  const latency = metrics.stepLatency.labels(stepId);
  const errors = metrics.errors.labels(stepId, 'false');
  return (source) => {
    const regrouped = new Observable<Envelope<C>>((out) => {
      const input = new Subject<Envelope<A>>();
      // Keyed by the trace id given to the item's copy inside `inner` (derive() keeps trace ids), so
      // two items sharing a trace id (a replayed record) never mix.
      const groups = new Map<string, Group<A, B>>();
      let seq = 0;
      let sourceDone = false;
      let innerDone = false;
      const maybeComplete = (): void => {
        if (sourceDone && innerDone && groups.size === 0) out.complete();
      };
      const settled = (id: string, s: Settlement): void => {
        const g = groups.get(id);
        if (!g) return;
        groups.delete(id);
        const first = s.failures[0];
        if (first) {
          g.env.ack.nack(first.error, first.stage, first.stepId);
        } else {
          let value: C;
          try {
            value = join(g.env.value, g.outputs);
          } catch (e) {
            errors.inc();
            g.env.ack.nack(e, 'operator', stepId);
            return maybeComplete();
          }
          latency.observe((performance.now() - g.started) / 1000);
          out.next(derive(g.env, value, g.env.ack));
        }
        maybeComplete();
      };
      const innerSub = inner(input).subscribe({
        next: (e) => {
          const g = groups.get(e.traceId);
          if (!g) {
            e.ack.nack(
              new RegroupError(stepId, `output for an unknown item (trace ${e.traceId})`),
              'operator',
              stepId,
            );
            return;
          }
          g.outputs.push(e.value);
          // Acking may settle the item's token, which emits the joined item (synchronously).
          e.ack.ack();
        },
        error: (e: unknown) => out.error(e),
        complete: () => {
          innerDone = true;
          // Items still open here lost parts without a settlement: fail them rather than hang.
          for (const [id, g] of [...groups]) {
            groups.delete(id);
            g.env.ack.nack(
              new RegroupError(stepId, 'sub-pipeline completed before the item'),
              'operator',
              stepId,
            );
          }
          maybeComplete();
        },
      });
      const sourceSub = source.subscribe({
        next: (env) => {
          const id = `${env.traceId}/${seq++}`;
          groups.set(id, { env, outputs: [], started: performance.now() });
          const token = AckToken.root((s) => settled(id, s));
          input.next({ ...env, traceId: id, ack: token });
        },
        error: (e: unknown) => out.error(e),
        complete: () => {
          sourceDone = true;
          input.complete();
        },
      });
      return () => {
        sourceSub.unsubscribe();
        innerSub.unsubscribe();
        groups.clear();
      };
    });
    // `inner` is wired per subscription: put its steps on the graph now, this step after them.
    const innerTail = probeSteps(source, inner, new Subject<Envelope<A>>());
    if (innerTail) linkInto(source, innerTail, stepId, regrouped);
    return regrouped;
  };
}
