import { Subject, VirtualTimeScheduler, firstValueFrom, from, lastValueFrom, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope, type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { batchModel } from '../../../src/models/batchModel.ts';

type V = { id: number; len: number };
function env(id: number, key: string | null, len = 1, onSettle?: (s: Settlement) => void): Envelope<V> {
  return envelope(
    { id, len },
    {
      key,
      origin: { kind: 'memory', source: 't', index: id },
      ack: AckToken.root(onSettle ?? (() => undefined)),
    },
  );
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('batchModel', () => {
  it('batches up to maxBatch and maps each result to its input, keeping the ack token', async () => {
    const sizes: number[] = [];
    const input = Array.from({ length: 10 }, (_, i) => env(i, `k${i}`));
    const out = await lastValueFrom(
      from(input).pipe(
        batchModel<V, number>({ stepId: 't1', maxBatch: 4, maxWaitMs: 1000 }, async (b) => {
          sizes.push(b.length);
          return b.map((v) => v.id * 10);
        }),
        toArray(),
      ),
    );
    expect(sizes).toEqual([4, 4, 2]);
    expect(out.map((e) => e.value)).toEqual(input.map((e) => e.value.id * 10));
    out.forEach((e, i) => expect(e.ack).toBe(input[i]!.ack));
    out.forEach((e, i) => expect(e.key).toBe(input[i]!.key));
  });

  it('flushes a partial batch after maxWaitMs (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const src = new Subject<Envelope<V>>();
    const calls: number[][] = [];
    const got: number[] = [];
    src
      .pipe(
        batchModel<V, number>({ stepId: 't2', maxBatch: 8, maxWaitMs: 50, scheduler }, async (b) => {
          calls.push(b.map((v) => v.id));
          return b.map((v) => v.id);
        }),
      )
      .subscribe((e) => got.push(e.value));
    src.next(env(1, null));
    src.next(env(2, null));
    await tick();
    expect(calls).toEqual([]);
    scheduler.flush();
    await tick();
    expect(calls).toEqual([[1, 2]]);
    expect(got).toEqual([1, 2]);
  });

  it('buckets by length so short and long items do not share a batch', async () => {
    const calls: number[][] = [];
    const lens = [3, 40, 5, 42, 7, 2];
    await lastValueFrom(
      from(lens.map((len, i) => env(i, null, len))).pipe(
        batchModel<V, number>(
          { stepId: 't3', maxBatch: 16, maxWaitMs: 1000, bucketWidth: 16, bucketBy: (v) => (v as V).len },
          async (b) => {
            calls.push(b.map((v) => v.len));
            return b.map(() => 0);
          },
        ),
        toArray(),
      ),
    );
    expect(calls.map((c) => c.slice().sort((a, b) => a - b))).toEqual([
      [2, 3, 5, 7],
      [40, 42],
    ]);
  });

  it('runs at most `concurrency` batches at once and keeps input order per key', async () => {
    let running = 0;
    let peak = 0;
    const input = Array.from({ length: 24 }, (_, i) => env(i, `k${i % 3}`, i % 2 === 0 ? 1 : 50));
    const out = await lastValueFrom(
      from(input).pipe(
        batchModel<V, number>(
          { stepId: 't4', maxBatch: 3, maxWaitMs: 1000, concurrency: 2, bucketBy: (v) => (v as V).len },
          async (b) => {
            running++;
            peak = Math.max(peak, running);
            // Later batches finish first: order must come from the operator, not from timing.
            await new Promise((r) => setTimeout(r, 20 - (b[0]!.id % 20)));
            running--;
            return b.map((v) => v.id);
          },
        ),
        toArray(),
      ),
    );
    expect(peak).toBe(2);
    expect(out).toHaveLength(24);
    for (const k of ['k0', 'k1', 'k2']) {
      const ids = out.filter((e) => e.key === k).map((e) => e.value);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  });

  it('starts the next ready batch before emitting the results of the one that finished', async () => {
    const events: string[] = [];
    const input = Array.from({ length: 4 }, (_, i) => env(i, null));
    await lastValueFrom(
      from(input).pipe(
        batchModel<V, number>({ stepId: 't4b', maxBatch: 2, maxWaitMs: 1000 }, async (b) => {
          events.push(`start ${b[0]!.id}`);
          await tick();
          return b.map((v) => v.id);
        }),
        tap((e) => events.push(`emit ${e.value}`)),
        toArray(),
      ),
    );
    expect(events).toEqual(['start 0', 'start 2', 'emit 0', 'emit 1', 'emit 2', 'emit 3']);
  });

  it('a bucket past maxWaitMs keeps taking items while the model is busy, and runs when a slot frees', async () => {
    const scheduler = new VirtualTimeScheduler();
    const src = new Subject<Envelope<V>>();
    const calls: number[][] = [];
    let release: () => void = () => undefined;
    src
      .pipe(
        batchModel<V, number>({ stepId: 't4c', maxBatch: 8, maxWaitMs: 5, scheduler }, async (b) => {
          calls.push(b.map((v) => v.id));
          if (calls.length === 1) await new Promise<void>((r) => (release = r));
          return b.map((v) => v.id);
        }),
      )
      .subscribe();
    src.next(env(0, null));
    scheduler.flush();
    expect(calls).toEqual([[0]]);
    // The model is busy: 1 and 2 wait past maxWaitMs, then 3 and 4 arrive; all four make one batch.
    src.next(env(1, null));
    src.next(env(2, null));
    scheduler.flush();
    src.next(env(3, null));
    src.next(env(4, null));
    scheduler.flush();
    expect(calls).toEqual([[0]]);
    release();
    await tick();
    expect(calls).toEqual([[0], [1, 2, 3, 4]]);
  });

  it('a failing batch nacks its envelopes with the step id, and the stream goes on', async () => {
    const settlements: Settlement[] = [];
    const input = [1, 2, 3, 4].map((i) => env(i, null, 1, (s) => settlements.push(s)));
    const out = await lastValueFrom(
      from(input).pipe(
        batchModel<V, number>({ stepId: 'ner-x', maxBatch: 2, maxWaitMs: 1000 }, async (b) => {
          if (b.some((v) => v.id === 1)) throw new Error('boom');
          return b.map((v) => v.id);
        }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.value)).toEqual([3, 4]);
    expect(settlements).toHaveLength(2);
    for (const s of settlements) expect(s.failures[0]).toMatchObject({ stepId: 'ner-x', stage: 'model' });
    expect(String(settlements[0]!.failures[0]!.error.message)).toMatch(/ner-x: boom/);
  });

  it('a wrong result count is an error for that batch, not a silent misalignment', async () => {
    const settlements: Settlement[] = [];
    const out = await lastValueFrom(
      from([env(1, null, 1, (s) => settlements.push(s))]).pipe(
        batchModel<V, number>({ stepId: 't6', maxBatch: 2, maxWaitMs: 0 }, async () => []),
        toArray(),
      ),
    );
    expect(out).toEqual([]);
    expect(settlements[0]!.failures[0]!.error.message).toMatch(/returned 0 results for 1 inputs/);
  });

  it('errors instead of buffering past maxBuffered', async () => {
    const never = new Promise<number[]>(() => undefined);
    const src = from(Array.from({ length: 5 }, (_, i) => env(i, null)));
    await expect(
      firstValueFrom(
        src.pipe(
          batchModel<V, number>({ stepId: 't7', maxBatch: 1, maxWaitMs: 0, maxBuffered: 3 }, () => never),
        ),
      ),
    ).rejects.toThrow(/t7: more than maxBuffered=3/);
  });

  it('rejects an invalid config naming the step', () => {
    expect(() => batchModel({ stepId: 'bad', maxBatch: 0 }, async () => [])).toThrow(
      /bad: batch config invalid: maxBatch/,
    );
  });
});

describe('batchModel error kinds', () => {
  it('bad input in a batch nacks only the bad item (items rerun singly)', async () => {
    const { ModelError } = await import('../../../src/models/errors.ts');
    const settled: [number, Settlement][] = [];
    const input = [1, 2, 3, 4].map((i) => env(i, null, 1, (s) => settled.push([i, s])));
    const out = await lastValueFrom(
      from(input).pipe(
        batchModel<V, number>({ stepId: 'in', maxBatch: 4, maxWaitMs: 1000 }, async (b) => {
          if (b.some((v) => v.id === 3)) throw new ModelError('input', 'in: item 3 is bad');
          return b.map((v) => v.id);
        }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.value).sort()).toEqual([1, 2, 4]);
    expect(settled.map(([i]) => i)).toEqual([3]);
    expect(settled[0]![1].failures[0]!.error.message).toMatch(/item 3 is bad/);
  });

  it('a broken bundle errors the stream instead of dead-lettering every record', async () => {
    const { ModelError } = await import('../../../src/models/errors.ts');
    const settled: Settlement[] = [];
    const input = [1, 2].map((i) => env(i, null, 1, (s) => settled.push(s)));
    await expect(
      lastValueFrom(
        from(input).pipe(
          batchModel<V, number>({ stepId: 'b', maxBatch: 2, maxWaitMs: 0 }, async () => {
            throw new ModelError('bundle', 'model bundle: x/model.onnx: missing');
          }),
        ),
      ),
    ).rejects.toThrow(/model\.onnx: missing/);
    expect(settled).toEqual([]);
  });
});
