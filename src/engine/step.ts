import { Observable, from, mergeAll, mergeMap, type OperatorFunction } from 'rxjs';
import { derive, type Envelope } from './envelope.ts';
import { metrics } from '../obs/metrics.ts';
import { asStep } from './graph.ts';

/** Options shared by step operators. */
export interface StepOptions {
  /** Concurrent async calls (default 1 keeps order). */
  concurrency?: number;
  /**
   * Stage written with a failure (the dead letter's `dlq.stage` header; default `operator`), for
   * steps whose failures have a stage of their own (`split`, `tokenize`, `augment`).
   */
  stage?: string;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Maps each value with `fn`; an exception (or rejection) nacks the item with this step's id, so the
 * source record goes to the dead letters while the stream continues.
 */
export function mapStep<A, B>(
  stepId: string,
  fn: (value: A, env: Envelope<A>) => B | Promise<B>,
  opts: StepOptions = {},
): OperatorFunction<Envelope<A>, Envelope<B>> {
  const latency = metrics.stepLatency.labels(stepId);
  const errors = metrics.errors.labels(stepId, 'false');
  const stage = opts.stage ?? 'operator';
  const op = mergeMap((env: Envelope<A>) => {
    const start = performance.now();
    const fail = (e: unknown): Envelope<B>[] => {
      errors.inc();
      env.ack.nack(e, stage, stepId);
      return [];
    };
    let out: B | Promise<B>;
    try {
      out = fn(env.value, env);
    } catch (e) {
      return fail(e);
    }
    if (!isPromise(out)) {
      latency.observe((performance.now() - start) / 1000);
      return [derive(env, out, env.ack)];
    }
    return from(
      out.then(
        (v) => {
          latency.observe((performance.now() - start) / 1000);
          return [derive(env, v, env.ack)];
        },
        (e: unknown) => fail(e),
      ),
    ).pipe(mergeAll());
  }, opts.concurrency ?? 1);
  return asStep(stepId, op);
}

/**
 * Fans each value out into zero or more children sharing the parent's ack token (via `split`);
 * `keyOf(child, i, parent)` gives each child a stable key (default `parentKey:i`).
 */
export function flatMapStep<A, B>(
  stepId: string,
  fn: (value: A, env: Envelope<A>) => B[] | Promise<B[]>,
  keyOf: (child: B, index: number, parent: Envelope<A>) => string | null = (_c, i, p) =>
    p.key === null ? String(i) : `${p.key}:${i}`,
  opts: StepOptions = {},
): OperatorFunction<Envelope<A>, Envelope<B>> {
  const latency = metrics.stepLatency.labels(stepId);
  const errors = metrics.errors.labels(stepId, 'false');
  const stage = opts.stage ?? 'operator';
  const fanOut = (env: Envelope<A>, values: B[], start: number): Envelope<B>[] => {
    latency.observe((performance.now() - start) / 1000);
    const tokens = env.ack.split(values.length);
    return values.map((v, i) => derive(env, v, tokens[i]!, keyOf(v, i, env)));
  };
  const op = mergeMap((env: Envelope<A>) => {
    const start = performance.now();
    let out: B[] | Promise<B[]>;
    try {
      out = fn(env.value, env);
      if (!isPromise(out)) return fanOut(env, out, start);
    } catch (e) {
      errors.inc();
      env.ack.nack(e, stage, stepId);
      return [];
    }
    return from(
      out.then(
        (vs) => fanOut(env, vs, start),
        (e: unknown) => {
          errors.inc();
          env.ack.nack(e, stage, stepId);
          return [] as Envelope<B>[];
        },
      ),
    ).pipe(mergeAll());
  }, opts.concurrency ?? 1);
  return asStep(stepId, op);
}

/** Keeps items matching `pred`; the others are dropped (acked as done). Exceptions nack. */
export function filterStep<A>(
  stepId: string,
  pred: (value: A, env: Envelope<A>) => boolean,
): OperatorFunction<Envelope<A>, Envelope<A>> {
  const latency = metrics.stepLatency.labels(stepId);
  const op = mergeMap((env: Envelope<A>) => {
    const start = performance.now();
    try {
      if (pred(env.value, env)) return [env];
      env.ack.drop();
    } catch (e) {
      metrics.errors.labels(stepId, 'false').inc();
      env.ack.nack(e, 'operator', stepId);
    } finally {
      latency.observe((performance.now() - start) / 1000);
    }
    return [];
  });
  return asStep(stepId, op);
}

/** Counts items and time between consecutive items passing `stepId` (a `tap` for metrics). */
export function tapMetrics<A>(stepId: string): OperatorFunction<Envelope<A>, Envelope<A>> {
  return asStep(
    stepId,
    (source) =>
      new Observable<Envelope<A>>((sub) => {
        const hist = metrics.stepLatency.labels(stepId);
        let last = performance.now();
        return source.subscribe({
          next: (env) => {
            const now = performance.now();
            hist.observe((now - last) / 1000);
            last = now;
            sub.next(env);
          },
          error: (e: unknown) => sub.error(e),
          complete: () => sub.complete(),
        });
      }),
  );
}
