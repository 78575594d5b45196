import { firstValueFrom, from, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { branches } from '../../../src/engine/branch.ts';
import { type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { MemorySink } from '../../../src/engine/memory.ts';
import { flatMapStep, mapStep } from '../../../src/engine/step.ts';
import { requireSink, requireStream, TopologyInputError } from '../../../src/engine/topology.ts';
import { envelopes } from '../../helpers/setup.ts';

const envs = <T>(values: T[], settled: Settlement[]): Envelope<T>[] =>
  envelopes(values, { onSettle: (s) => settled.push(s) });

describe('branches', () => {
  it('gives every branch each input (even from a synchronous source); the input settles only when every branch has settled it', async () => {
    const settled: Settlement[] = [];
    const b = branches(from(envs([1, 2], settled)), ['a', 'b'] as const);
    const [a, bb] = await Promise.all([
      firstValueFrom(b.a.pipe(toArray())),
      firstValueFrom(b.b.pipe(toArray())),
    ]);
    expect(a.map((e) => [e.key, e.value])).toEqual([
      ['k0', 1],
      ['k1', 2],
    ]);
    expect(bb.map((e) => e.value)).toEqual([1, 2]);
    for (const e of a) e.ack.ack();
    expect(settled).toEqual([]);
    bb[0]!.ack.ack();
    bb[1]!.ack.nack(new Error('boom'), 'operator', 'b-step');
    expect(settled[0]).toEqual({ failures: [] });
    expect(settled[1]!.failures).toMatchObject([{ stage: 'operator', stepId: 'b-step' }]);
  });

  it('starts the source only once every branch is subscribed', () => {
    let started = 0;
    const settled: Settlement[] = [];
    const src = from(envs([1], settled)).pipe(mapStep('count', (v) => (started++, v)));
    const b = branches(src, ['a', 'b'] as const);
    const got: number[] = [];
    b.a.subscribe((e) => got.push(e.value));
    expect(started).toBe(0);
    b.b.subscribe((e) => got.push(e.value * 10));
    expect(started).toBe(1);
    expect(got).toEqual([1, 10]);
  });

  it('needs at least one branch name', () => {
    expect(() => branches(of(), [])).toThrow(RangeError);
  });
});

describe('requireStream / requireSink', () => {
  it('return the named stream and sink', () => {
    const s = of();
    const sink = new MemorySink<number>('out');
    expect(requireStream({ abstracts: s }, 'abstracts', 't')).toBe(s);
    expect(requireSink({ out: sink }, 'out', 't')).toBe(sink);
  });

  it('name the topology and list what was given when a name is missing', () => {
    const e = (() => {
      try {
        requireStream({ a: of(), b: of() }, 'abstracts', 'ner-tagging');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(TopologyInputError);
    expect((e as TopologyInputError).retriable).toBe(false);
    expect((e as Error).message).toBe('ner-tagging: needs a source named "abstracts"; given: a, b');
    expect(() => requireSink({}, 'predictions', 'ingest')).toThrow(
      'ingest: needs a sink named "predictions"; given: (none)',
    );
  });
});

describe('step primitives: the failure stage', () => {
  it("defaults to 'operator' and can be set per step", async () => {
    const settled: Settlement[] = [];
    const fail = (): never => {
      throw new Error('bad');
    };
    await lastValueFrom(
      from(envs([1, 2, 3], settled)).pipe(
        mapStep('m-default', (v) => (v === 1 ? fail() : v)),
        mapStep('m-tok', (v) => (v === 2 ? fail() : v), { stage: 'tokenize' }),
        flatMapStep('f-split', (v) => (v === 3 ? fail() : [v]), undefined, { stage: 'split' }),
        toArray(),
      ),
    );
    expect(settled.map((s) => s.failures.map((f) => `${f.stage}/${f.stepId}`))).toEqual([
      ['operator/m-default'],
      ['tokenize/m-tok'],
      ['split/f-split'],
    ]);
  });
});
