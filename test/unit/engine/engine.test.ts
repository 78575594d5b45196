import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { merge, type Observable } from 'rxjs';
import { CreditGate } from '../../../src/engine/credits.ts';
import { PartitionOffsets } from '../../../src/engine/offsetTracker.ts';
import { MemorySink, MemorySource } from '../../../src/engine/memory.ts';
import { MemoryDeadLetters } from '../../../src/engine/deadLetters.ts';
import { filterStep, flatMapStep, mapStep } from '../../../src/engine/step.ts';
import { runTopology } from '../../../src/engine/runner.ts';
import type { Envelope } from '../../../src/engine/envelope.ts';
import { createRng } from '../../../src/engine/rng.ts';

describe('PartitionOffsets', () => {
  it('commits only the highest contiguous acked offset, whatever the ack order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (n, seed) => {
        const rng = createRng(seed);
        const t = new PartitionOffsets();
        // Offsets with gaps (compaction / control records).
        const offsets: bigint[] = [];
        let o = 10n;
        for (let i = 0; i < n; i++) offsets.push((o += BigInt(1 + rng.int(3))));
        const slots = offsets.map((off) => t.register(off));
        const order = slots.map((_, i) => i).sort(() => rng.next() - 0.5);
        const acked = new Set<number>();
        let last: bigint | null = null;
        for (const i of order) {
          t.ack(slots[i]!);
          acked.add(i);
          let prefix = 0;
          while (acked.has(prefix)) prefix++;
          const expected = prefix === 0 ? null : offsets[prefix - 1]! + 1n;
          const got = t.pendingCommit();
          // Only a moved commit point is reported; it never skips an unacked offset.
          if (expected === null || expected === last) expect(got).toBeNull();
          else {
            expect(got).toBe(expected);
            t.markCommitted(got!);
            last = got;
          }
        }
        expect(t.unsettled).toBe(0);
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it('counts what would replay if the generation ended now: emitted at or above the last commit', () => {
    const p = new PartitionOffsets();
    expect(p.uncommitted).toBe(0);
    const slots = [10n, 11n, 12n, 13n].map((o) => p.register(o));
    // Nothing committed yet: every emitted record replays, acked or not.
    p.ack(slots[0]!);
    p.ack(slots[1]!);
    expect(p.uncommitted).toBe(4);
    p.markCommitted(p.pendingCommit()!);
    expect(p.uncommitted).toBe(2);
    p.ack(slots[3]!);
    expect(p.uncommitted).toBe(2);
    p.ack(slots[2]!);
    p.markCommitted(p.pendingCommit()!);
    expect(p.uncommitted).toBe(0);
  });

  it('rejects offsets that do not increase', () => {
    const t = new PartitionOffsets();
    t.register(5n);
    expect(() => t.register(5n)).toThrow(/not above/);
  });
});

describe('CreditGate', () => {
  it('pauses at maxInFlight and resumes at the low-water mark', () => {
    const events: string[] = [];
    const g = new CreditGate(
      4,
      1,
      () => events.push('pause'),
      () => events.push('resume'),
    );
    for (let i = 0; i < 4; i++) g.take();
    expect(events).toEqual(['pause']);
    expect(g.available).toBe(false);
    expect(() => g.take()).toThrow(/no credit/);
    g.release();
    g.release();
    expect(events).toEqual(['pause']);
    g.release();
    expect(events).toEqual(['pause', 'resume']);
    expect(g.peakInFlight).toBe(4);
  });

  it('validates its configuration', () => {
    expect(() => new CreditGate(0)).toThrow(/maxInFlight/);
    expect(() => new CreditGate(4, 4)).toThrow(/lowWater/);
  });
});

describe('topology runner with in-memory source and sink', () => {
  it('acks every input once its fan-out children are written; nacks go to dead letters with the step id', async () => {
    const dl = new MemoryDeadLetters();
    const values = Array.from({ length: 500 }, (_, i) => i);
    const source = new MemorySource('nums', values, { maxInFlight: 16, deadLetters: dl });
    const sink = new MemorySink<number>('out', 1);
    let peak = 0;
    const run = runTopology({
      sources: { nums: source },
      sinks: { out: sink },
      build: (s, k) =>
        (s.nums as Observable<Envelope<number>>).pipe(
          mapStep('check', (n: number) => {
            peak = Math.max(peak, source.gate.current);
            if (n % 97 === 13) throw new RangeError(`bad ${n}`);
            return n;
          }),
          filterStep('drop-fives', (n: number) => n % 5 !== 0),
          flatMapStep('triple', async (n: number) => [n * 10, n * 10 + 1, n * 10 + 2]),
          k.out!.write(),
        ),
      config: {},
      handleSignals: false,
    });
    const result = await run.done;
    const bad = values.filter((n) => n % 97 === 13);
    const dropped = values.filter((n) => n % 5 === 0 && n % 97 !== 13);
    const kept = values.length - bad.length - dropped.length;
    expect(result.outputs).toBe(3 * kept);
    expect(sink.items.length).toBe(3 * kept);
    expect(new Set(sink.items.map((i) => i.key)).size).toBe(3 * kept);
    expect(sink.items.find((i) => i.value === 11)?.key).toBe('1:1');
    expect(source.acked.length).toBe(values.length - bad.length);
    expect(dl.records.map((r) => r.origin.kind === 'memory' && r.origin.index)).toEqual(bad);
    expect(dl.records[0]!.dlqHeaders).toMatchObject({
      'dlq.stage': 'operator',
      'dlq.step': 'check',
      'dlq.error.class': 'RangeError',
      'dlq.error.message': 'bad 13',
      'dlq.origin.offset': '13',
    });
    expect(peak).toBeLessThanOrEqual(16);
  });

  it('fan-in of two sources completes when both end', async () => {
    const a = new MemorySource('a', [1, 2, 3]);
    const b = new MemorySource('b', [4, 5]);
    const sink = new MemorySink<number>('out');
    const run = runTopology({
      sources: { a, b },
      sinks: { out: sink },
      build: (s, k) =>
        merge(s.a as Observable<Envelope<number>>, s.b as Observable<Envelope<number>>).pipe(k.out!.write()),
      config: {},
      handleSignals: false,
    });
    expect((await run.done).outputs).toBe(5);
    expect(sink.items.map((i) => i.value).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('stop() ends an unbounded run after draining', async () => {
    const source = new MemorySource(
      'big',
      Array.from({ length: 100_000 }, (_, i) => i),
      { maxInFlight: 8 },
    );
    const sink = new MemorySink<number>('out', 1);
    const run = runTopology({
      sources: { big: source },
      sinks: { out: sink },
      build: (s, k) => (s.big as Observable<Envelope<number>>).pipe(k.out!.write()),
      config: {},
      handleSignals: false,
    });
    await new Promise((r) => setTimeout(r, 50));
    const result = await run.stop();
    expect(result.stoppedBy).toBe('stop');
    expect(sink.items.length).toBe(source.acked.length);
    expect(sink.items.length).toBeLessThan(100_000);
    expect(source.gate.current).toBe(0);
  });
});
