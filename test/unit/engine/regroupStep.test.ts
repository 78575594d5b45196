import { pipe, type Observable } from 'rxjs';
import type { Envelope } from '../../../src/engine/envelope.ts';
import { describe, expect, it } from 'vitest';
import { MemoryDeadLetters } from '../../../src/engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../../src/engine/memory.ts';
import { regroupStep } from '../../../src/engine/regroupStep.ts';
import { runTopology } from '../../../src/engine/runner.ts';
import { filterStep, flatMapStep, mapStep } from '../../../src/engine/step.ts';

interface Item {
  id: string;
  parts: number;
  failAt?: number;
  dropAt?: number;
}
interface Part {
  id: string;
  i: number;
}

// Parts fan out, finish out of order (async delays), may fail or be filtered out; then regroup.
const inner = pipe(
  flatMapStep<Item, Part>('fan-out', (v) => Array.from({ length: v.parts }, (_, i) => ({ id: v.id, i }))),
  mapStep<Part, Part>(
    'slow-part',
    async (p) => {
      await new Promise((r) => setTimeout(r, (p.i * 7) % 5));
      return p;
    },
    { concurrency: 8 },
  ),
  mapStep<Part, Part>('maybe-fail', (p) => {
    if (p.id.startsWith('fail') && p.i === 1) throw new Error(`part ${p.i} of ${p.id} is bad`);
    return p;
  }),
  filterStep<Part>('drop-some', (p) => !(p.id.startsWith('drop') && p.i === 0)),
);

async function run(items: Item[], maxInFlight: number) {
  const dlq = new MemoryDeadLetters();
  const source = new MemorySource<Item>('items', items, {
    maxInFlight,
    deadLetters: dlq,
    keyOf: (v) => (v as Item).id,
  });
  const sink = new MemorySink<{ id: string; parts: number[] }>('out');
  await runTopology({
    sources: { items: source },
    sinks: { out: sink },
    build: (s, k) =>
      (s.items as Observable<Envelope<Item>>).pipe(
        regroupStep('regroup', inner, (item, outs) => ({
          id: item.id,
          parts: outs.map((o) => o.i).sort((a, b) => a - b),
        })),
        (k.out as MemorySink<{ id: string; parts: number[] }>).write(),
      ),
    config: {},
    handleSignals: false,
  }).done;
  return { dlq, source, sink };
}

describe('regroupStep', () => {
  it('joins every part of an item once its ack tree settles, on the item key, whatever the part order', async () => {
    const items: Item[] = [
      { id: 'a', parts: 5 },
      { id: 'none', parts: 0 },
      { id: 'fail-b', parts: 4 },
      { id: 'drop-c', parts: 3 },
      { id: 'd', parts: 1 },
      ...Array.from({ length: 20 }, (_, k) => ({ id: `n${k}`, parts: 1 + (k % 6) })),
    ];
    const { dlq, source, sink } = await run(items, 3);
    const byId = new Map(sink.items.map((x) => [x.value.id, x]));
    expect(byId.get('a')!.value.parts).toEqual([0, 1, 2, 3, 4]);
    expect(byId.get('a')!.key).toBe('a');
    // No parts: the item settles at once and still yields its (empty) group.
    expect(byId.get('none')!.value.parts).toEqual([]);
    // A dropped part is simply not there; a failed part dead-letters the whole item with its step id.
    expect(byId.get('drop-c')!.value.parts).toEqual([1, 2]);
    expect(byId.has('fail-b')).toBe(false);
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0]!.failures[0]!.stepId).toBe('maybe-fail');
    expect(dlq.records[0]!.failures[0]!.error.message).toMatch(/part 1 of fail-b/);
    for (let k = 0; k < 20; k++) expect(byId.get(`n${k}`)!.value.parts).toHaveLength(1 + (k % 6));
    expect(sink.items).toHaveLength(items.length - 1);
    expect(source.acked).toHaveLength(items.length - 1);
    expect(source.failed.map((f) => f.index)).toEqual([2]);
  });
});

describe('regroupStep memory bound', () => {
  it('never holds more items than the source lets be in flight', async () => {
    const open = new Set<string>();
    let maxOpen = 0;
    const tracked = pipe(
      flatMapStep<Item, Part>('fan-out', (v) => {
        open.add(v.id);
        maxOpen = Math.max(maxOpen, open.size);
        return Array.from({ length: v.parts }, (_, i) => ({ id: v.id, i }));
      }),
      mapStep<Part, Part>(
        'slow-part',
        async (p) => {
          await new Promise((r) => setTimeout(r, 1 + (p.i % 3)));
          return p;
        },
        { concurrency: 16 },
      ),
    );
    const items: Item[] = Array.from({ length: 60 }, (_, k) => ({ id: `i${k}`, parts: 1 + (k % 4) }));
    const source = new MemorySource<Item>('items', items, { maxInFlight: 5, keyOf: (v) => (v as Item).id });
    const sink = new MemorySink<string>('out');
    await runTopology({
      sources: { items: source },
      sinks: { out: sink },
      build: (s, k) =>
        (s.items as Observable<Envelope<Item>>).pipe(
          regroupStep('regroup', tracked, (item) => {
            open.delete(item.id);
            return item.id;
          }),
          (k.out as MemorySink<string>).write(),
        ),
      config: {},
      handleSignals: false,
    }).done;
    expect(sink.items).toHaveLength(60);
    expect(maxOpen).toBeGreaterThan(1);
    expect(maxOpen).toBeLessThanOrEqual(5);
  });
});
