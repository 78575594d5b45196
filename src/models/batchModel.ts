import {
  Observable,
  asyncScheduler,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { z } from 'zod';
import { derive, type Envelope } from '../engine/envelope.ts';
import { metrics } from '../obs/metrics.ts';
import { ModelError } from './errors.ts';

export const BatchConfig = z
  .object({
    stepId: z.string().min(1),
    maxBatch: z.number().int().min(1).max(4096).default(32),
    maxWaitMs: z.number().min(0).default(10),
    concurrency: z.number().int().min(1).max(64).default(1),
    /** Width of a length bucket: items whose length / bucketWidth floors equal are batched together. */
    bucketWidth: z.number().int().min(1).default(16),
    /**
     * Hard bound on items held (buffered + in flight). The source's credit window (maxInFlight) is what keeps
     * the operator below it; exceeding it means an upstream without credits, which is reported as an error
     * rather than buffered without a bound.
     */
    maxBuffered: z.number().int().min(1).default(10_000),
  })
  .strict();
export type BatchConfig = z.output<typeof BatchConfig>;

/** batchModel's argument: the input of BatchConfig and what is injected beside it. */
export type BatchInit = z.input<typeof BatchConfig> & {
  /** Length of an item for bucketing (e.g. token count); omitted: one bucket. */
  bucketBy?: (value: unknown) => number;
  /** Timer scheduler (tests inject a virtual one). */
  scheduler?: SchedulerLike;
};

/** Validates a batch config merged over defaults; the error names the step and the bad fields. */
export function resolveBatchConfig(cfg: z.input<typeof BatchConfig>): BatchConfig {
  const r = BatchConfig.safeParse(cfg);
  if (!r.success)
    throw new ModelError(
      'config',
      `${cfg.stepId ?? '(batch)'}: batch config invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

interface Item<A> {
  env: Envelope<A>;
  seq: number;
}

/**
 * Dynamic batching in front of a batched `predict`: collects up to maxBatch envelopes per length bucket or
 * until the bucket's oldest item has waited maxWaitMs (then it runs when a slot is free, taking the items that
 * arrive meanwhile), runs at most `concurrency` batches at once, oldest first, and emits
 * each input's result as a derived envelope carrying the input's ack token, in input order per key (envelopes
 * with a null key are emitted as soon as ready). A failing batch nacks its envelopes (they go to the dead
 * letters upstream) and the stream goes on; a batch failing on bad input (ModelError 'input') is rerun item
 * by item first, so only the bad items are nacked; a broken bundle or config ('bundle', 'config') errors the
 * stream, since every record would fail alike. Backpressure: RxJS pushes, so the bound comes from the
 * credit-based source: every held item is an unacked envelope, and the source stops at maxInFlight.
 */
export function batchModel<A, B>(
  config: BatchInit,
  predict: (batch: A[]) => Promise<B[]>,
): OperatorFunction<Envelope<A>, Envelope<B>> {
  const { bucketBy: by, scheduler: sch, ...plain } = config;
  const cfg = resolveBatchConfig(plain);
  const bucketBy = by as ((v: A) => number) | undefined;
  const scheduler = sch ?? asyncScheduler;
  const step = cfg.stepId;
  const heldGauge = metrics.stepInFlight.labels(step);
  return (source) =>
    new Observable<Envelope<B>>((out) => {
      // A bucket whose oldest item has waited maxWaitMs is `due`: it runs as soon as a slot is free, and keeps
      // taking items until then, so batches grow while the model is busy instead of queuing up half empty.
      const buckets = new Map<number, { items: Item<A>[]; timer: Subscription | null; due: boolean }>();
      const ready: Item<A>[][] = [];
      const orders = new Map<string, { seqs: number[]; done: Map<number, Envelope<B> | null> }>();
      let seq = 0;
      let held = 0;
      let running = 0;
      let completed = false;
      let closed = false;
      let torn = false;

      const emitInOrder = (key: string): void => {
        const o = orders.get(key);
        if (!o) return;
        while (o.seqs.length && o.done.has(o.seqs[0]!)) {
          const s = o.seqs.shift()!;
          const env = o.done.get(s);
          o.done.delete(s);
          if (env) out.next(env);
        }
        if (o.seqs.length === 0) orders.delete(key);
      };
      const settle = (it: Item<A>, result: Envelope<B> | null): void => {
        held--;
        if (!torn) heldGauge.dec();
        const key = it.env.key;
        if (key === null) {
          if (result) out.next(result);
          return;
        }
        orders.get(key)?.done.set(it.seq, result);
        emitInOrder(key);
      };
      const maybeComplete = (): void => {
        if (completed && held === 0 && !closed) {
          closed = true;
          out.complete();
        }
      };
      /** The batch to run next: the oldest of the queued batches and the due buckets (taken out). */
      const next = (): Item<A>[] | undefined => {
        let oldest = ready[0]?.[0]?.seq ?? Infinity;
        let pick: number | undefined;
        for (const [b, bucket] of buckets) {
          const first = bucket.items[0]?.seq ?? Infinity;
          if (bucket.due && first < oldest) {
            oldest = first;
            pick = b;
          }
        }
        if (pick === undefined) return ready.shift();
        const bucket = buckets.get(pick)!;
        buckets.delete(pick);
        return bucket.items;
      };
      const pump = (): void => {
        while (running < cfg.concurrency) {
          const batch = next();
          if (!batch) break;
          running++;
          const t0 = performance.now();
          metrics.batchSize.observe({ step }, batch.length);
          let p: Promise<B[]>;
          try {
            p = predict(batch.map((i) => i.env.value));
          } catch (e) {
            p = Promise.reject(e);
          }
          let freed = false;
          const free = (): void => {
            if (freed) return;
            freed = true;
            running--;
            if (!closed) pump();
          };
          p.then((results) => {
            if (results.length !== batch.length)
              throw new ModelError(
                'runtime',
                `${step}: predict returned ${results.length} results for ${batch.length} inputs`,
                { retriable: false },
              );
            metrics.stepLatency.observe({ step }, (performance.now() - t0) / 1000);
            // Start the next ready batch before emitting this one: a model on a worker thread runs it
            // while these results go downstream on this thread.
            free();
            batch.forEach((it, k) => settle(it, derive(it.env, results[k] as B, it.env.ack)));
          })
            .catch((e: unknown) => {
              const err =
                e instanceof ModelError
                  ? e
                  : new ModelError('runtime', `${step}: ${String((e as Error)?.message ?? e)}`, { cause: e });
              metrics.errors.inc({ step, retriable: String(err.retriable) });
              // A broken bundle or config fails every record alike: stop the stream (records stay unacked and
              // replay once fixed) instead of dead-lettering the whole input.
              if (err.code === 'bundle' || err.code === 'config') {
                closed = true;
                out.error(err);
                return;
              }
              // Bad input in a batch: rerun its items one by one so only the bad ones are nacked.
              if (err.code === 'input' && batch.length > 1) {
                ready.unshift(...batch.map((it) => [it]));
                return;
              }
              for (const it of batch) {
                it.env.ack.nack(err, 'model', step);
                settle(it, null);
              }
            })
            .finally(() => {
              free();
              if (!closed) maybeComplete();
            });
        }
      };
      const flush = (b: number): void => {
        const bucket = buckets.get(b);
        if (!bucket || bucket.items.length === 0) return;
        bucket.timer?.unsubscribe();
        buckets.delete(b);
        ready.push(bucket.items);
        pump();
      };
      const sub = source.subscribe({
        next: (env) => {
          if (held >= cfg.maxBuffered) {
            const err = new ModelError(
              'config',
              `${step}: more than maxBuffered=${cfg.maxBuffered} items held; the source must bound its in-flight envelopes (maxInFlight)`,
              { retriable: false },
            );
            env.ack.nack(err, 'model', step);
            out.error(err);
            return;
          }
          let len = 0;
          if (bucketBy) {
            try {
              len = bucketBy(env.value);
            } catch (e) {
              env.ack.nack(e, 'model', step);
              return;
            }
          }
          const b = bucketBy ? Math.floor(len / cfg.bucketWidth) : 0;
          const it: Item<A> = { env, seq: seq++ };
          held++;
          heldGauge.inc();
          if (env.key !== null) {
            let o = orders.get(env.key);
            if (!o) orders.set(env.key, (o = { seqs: [], done: new Map() }));
            o.seqs.push(it.seq);
          }
          let bucket = buckets.get(b);
          if (!bucket) {
            const opened = { items: [] as Item<A>[], timer: null as Subscription | null, due: false };
            bucket = opened;
            buckets.set(b, bucket);
            bucket.timer = scheduler.schedule(() => {
              opened.timer = null;
              opened.due = true;
              pump();
            }, cfg.maxWaitMs);
          }
          bucket.items.push(it);
          if (bucket.items.length >= cfg.maxBatch) flush(b);
        },
        error: (e) => out.error(e),
        complete: () => {
          completed = true;
          for (const b of [...buckets.keys()]) flush(b);
          maybeComplete();
        },
      });
      return () => {
        closed = true;
        // Items still held when the stream is torn down no longer count as in this step.
        heldGauge.dec(held);
        torn = true;
        sub.unsubscribe();
        for (const b of buckets.values()) b.timer?.unsubscribe();
        buckets.clear();
        ready.length = 0;
      };
    });
}
