import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  filterAugmented,
  rejectedTotal,
  thresholdReason,
  FilterAugmentedConfig,
} from '../../../src/augment/filterAugmented.ts';
import { qualityOf } from '../../../src/augment/quality.ts';
import { AckToken, envelope, type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import type { AugmentedSentence } from '../../../src/io/avro/types.generated.ts';
import { metrics } from '../../../src/obs/metrics.ts';

/** A valid BioAug record of source `src` (5 tokens) with the given scores; quality from them. */
function rec(src: string, n: number, over: Partial<AugmentedSentence> = {}): AugmentedSentence {
  const r: AugmentedSentence = {
    id: `${src}:bioaug:${n}`,
    sourceId: src,
    method: 'bioaug',
    seed: 1,
    modelId: 'generator',
    tokens: ['a', 'b', 'c', 'd', 'e'],
    tags: ['B-Disease', 'O', 'O', 'O', 'O'],
    valid: true,
    newTokenShare: 0.2,
    lengthDiff: 0,
    generatedText: 'x',
    createdAt: 0,
    meanLogProb: -1,
    taggerAgreement: null,
    quality: null,
    rejectReason: null,
    ...over,
  };
  return { ...r, quality: over.quality ?? qualityOf(r) };
}

async function run(records: AugmentedSentence[], config: Parameters<typeof filterAugmented>[0]) {
  const settled: Settlement[] = [];
  const envs: Envelope<AugmentedSentence>[] = records.map((v, i) =>
    envelope(v, {
      key: v.id,
      origin: { kind: 'memory', source: 'm', index: i },
      ack: AckToken.root((s) => (settled[i] = s)),
    }),
  );
  const out = await lastValueFrom(from(envs).pipe(filterAugmented(config), toArray()));
  for (const e of out) e.ack.ack();
  return { out: out.map((e) => e.value), settled };
}

const counted = async (step: string, reason: string): Promise<number> =>
  (await rejectedTotal.get()).values.find((v) => v.labels.step === step && v.labels.reason === reason)
    ?.value ?? 0;

/** Observations of the step latency histogram for `step` (what the console's records/s read). */
const observed = async (step: string): Promise<number> =>
  (await metrics.stepLatency.get()).values.find(
    (v) => v.labels.step === step && (v as { metricName?: string }).metricName?.endsWith('_count'),
  )?.value ?? 0;

describe('filterAugmented', () => {
  it('observes every record it sees in the step metrics, passed or rejected, like mapStep', async () => {
    const before = await observed('qf-metrics');
    const records = [rec('m1', 1), rec('m1', 2, { valid: false, rejectReason: 'unbalanced-label' })];
    records.push(rec('m2', 1, { quality: 0.01 }));
    await run(records, { stepId: 'qf-metrics', minQuality: 0.5 });
    expect((await observed('qf-metrics')) - before).toBe(3);
  });

  it('passes every valid record with the default config and counts invalid ones by reason', async () => {
    const bad = rec('s1', 2, {
      valid: false,
      tokens: [],
      tags: [],
      quality: 0,
      rejectReason: 'unbalanced-label',
    });
    const { out, settled } = await run([rec('s1', 0), rec('s1', 1), bad], { stepId: 'f-default' });
    expect(out.map((r) => r.id)).toEqual(['s1:bioaug:0', 's1:bioaug:1', 's1:bioaug:2']);
    expect(settled).toHaveLength(3);
    expect(await counted('f-default', 'unbalanced-label')).toBe(1);
  });

  it('drops records under each threshold, counted by the first reason, acked as done', async () => {
    const records = [
      rec('s', 0, { meanLogProb: -3 }), // exp(-3) = 0.05 < 0.2: min-quality
      rec('s', 1, { meanLogProb: -0.1, taggerAgreement: 0.4 }), // quality 0.36 but agreement low
      rec('s', 2, { meanLogProb: -0.1, newTokenShare: 0 }), // near-copy
      rec('s', 3, { meanLogProb: -0.1, newTokenShare: 0.9 }), // rewrite
      rec('s', 4, { meanLogProb: -0.1, lengthDiff: 3, tokens: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] }),
      rec('s', 5, { meanLogProb: -0.1 }), // passes
    ];
    const { out, settled } = await run(records, {
      stepId: 'f-thresholds',
      minQuality: 0.2,
      minAgreement: 0.5,
      minNewTokenShare: 0.05,
      maxNewTokenShare: 0.8,
      maxLengthChange: 0.5,
    });
    expect(out.map((r) => r.id)).toEqual(['s:bioaug:5']);
    // every input settled (dropped ones count as done), none failed
    expect(settled.filter((s) => s.failures.length === 0)).toHaveLength(6);
    for (const reason of [
      'min-quality',
      'min-agreement',
      'min-new-token-share',
      'max-new-token-share',
      'max-length-change',
    ])
      expect(await counted('f-thresholds', reason)).toBe(1);
  });

  it('keeps the k best-quality copies per source and method, in arrival order, and counts the rest as top-k', async () => {
    const lp = [-2, -0.5, -1, -0.2, -3];
    const records = [
      ...lp.map((x, n) => rec('a', n, { meanLogProb: x, tokens: ['a', 'b', 'c', 'd', `e${n}`] })),
      ...lp.map((x, n) => rec('b', n, { meanLogProb: x - 0.01, tokens: ['a', 'b', 'c', 'd', `e${n}`] })),
    ];
    // interleave the two sources, as batching does
    const mixed = records.map((_, i) => records[(i % 2) * 5 + Math.floor(i / 2)]!);
    const { out } = await run(mixed, { stepId: 'f-topk', topK: 2, copiesPerSource: 5 });
    expect(out.map((r) => r.id).sort()).toEqual(['a:bioaug:1', 'a:bioaug:3', 'b:bioaug:1', 'b:bioaug:3']);
    expect(await counted('f-topk', 'top-k')).toBe(6);
  });

  it('top-k never keeps two identical copies: the later ones are duplicates', async () => {
    const same = { tokens: ['x', 'y', 'z', 'w', 'v'], meanLogProb: -0.1 };
    const records = [rec('a', 0, same), rec('a', 1, same), rec('a', 2, { meanLogProb: -0.9 })];
    const { out } = await run(records, { stepId: 'f-dup', topK: 2, copiesPerSource: 3 });
    expect(out.map((r) => r.id)).toEqual(['a:bioaug:0', 'a:bioaug:2']);
    expect(await counted('f-dup', 'duplicate')).toBe(1);
    expect(await counted('f-dup', 'top-k')).toBe(0);
  });

  it('groups by the id without its copy number, so all4 copies (each naming its own method) form one group', async () => {
    const records = ['mr', 'lwtr', 'sis'].map((m, n) =>
      rec('a', n, { id: `a:all4:${n}`, method: m, meanLogProb: -n, tokens: ['a', 'b', 'c', 'd', `e${n}`] }),
    );
    // maxHoldMs 0: no timer; were the groups per method, none would complete before the end of stream
    const { out } = await run(records, { stepId: 'f-all4', topK: 1, copiesPerSource: 3, maxHoldMs: 0 });
    expect(out.map((r) => r.id)).toEqual(['a:all4:0']);
  });

  it('an invalid or threshold-rejected copy still completes its top-k group', async () => {
    const records = [
      rec('a', 0, { meanLogProb: -0.5 }),
      rec('a', 1, { valid: false, tokens: [], tags: [], quality: 0, rejectReason: 'entity-altered' }),
      rec('a', 2, { meanLogProb: -0.1 }),
    ];
    const { out } = await run(records, { stepId: 'f-group', topK: 1, copiesPerSource: 3, maxHoldMs: 0 });
    // the invalid copy passes at once (emitInvalid default), the group ranks on its third copy
    expect(out.map((r) => r.id)).toEqual(['a:bioaug:1', 'a:bioaug:2']);
  });

  it('emitRejected writes rejected records as valid: false with their reason', async () => {
    const { out } = await run([rec('s', 0, { meanLogProb: -4 }), rec('s', 1, { meanLogProb: -0.1 })], {
      stepId: 'f-emit',
      minMeanLogProb: -1,
      emitRejected: true,
    });
    expect(out.map((r) => [r.id, r.valid, r.rejectReason, r.quality])).toEqual([
      ['s:bioaug:0', false, 'min-mean-log-prob', 0],
      ['s:bioaug:1', true, null, Math.exp(-0.1)],
    ]);
  });

  it('emitInvalid: false drops invalid records, counted', async () => {
    const bad = rec('s', 0, {
      valid: false,
      tokens: [],
      tags: [],
      quality: 0,
      rejectReason: 'not-generated',
    });
    const { out, settled } = await run([bad], { stepId: 'f-noinvalid', emitInvalid: false });
    expect(out).toEqual([]);
    expect(settled[0]!.failures).toEqual([]);
    expect(await counted('f-noinvalid', 'not-generated')).toBe(1);
  });

  it('a threshold on a score the record does not have passes it (simple methods have no meanLogProb)', () => {
    const c = FilterAugmentedConfig.parse({ minMeanLogProb: -1, minAgreement: 0.5 });
    expect(thresholdReason(rec('s', 0, { meanLogProb: null, method: 'sr' }), c)).toBeNull();
    expect(thresholdReason(rec('s', 0, { meanLogProb: -2 }), c)).toBe('min-mean-log-prob');
  });
});
