import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ModelSession,
  float32,
  int64,
  intraOpThreadsFor,
  resolveBackendConfig,
} from '../../../src/models/backend.ts';
import { metrics } from '../../../src/obs/metrics.ts';

const model = join(import.meta.dirname, '../../fixtures/models/crf-tagger/model.onnx');
const feeds = () => ({
  word_ids: int64([2, 3], [1, 2]),
  char_ids: int64(new Array(24).fill(2), [1, 2, 12]),
  mask: float32([1, 1], [1, 2]),
});

describe('ORT backend', () => {
  it('merges options over defaults and lists valid providers on error', () => {
    expect(resolveBackendConfig()).toMatchObject({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      poolSize: 1,
      allowSpinning: false,
    });
    expect(() => resolveBackendConfig({ executionProviders: ['tpu' as 'cpu'] })).toThrow(
      /executionProviders: cpu, cuda, webgpu/,
    );
    expect(() => resolveBackendConfig({ threads: 2 } as never)).toThrow(/backend config invalid/);
  });

  it('opens a pool, runs on it, records batch compute time per provider, and refuses runs after dispose', async () => {
    const s = await ModelSession.open(model, {
      poolSize: 2,
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'basic',
    });
    expect(s.inputNames).toEqual(['word_ids', 'char_ids', 'mask']);
    expect(s.outputLastDim('emissions')).toBe(5);
    await s.warmup(feeds());
    const before =
      (await metrics.batchCompute.get()).values.find(
        (v) =>
          v.metricName?.endsWith('_count') && v.labels.step === 'backend-test' && v.labels.provider === 'cpu',
      )?.value ?? 0;
    const outs = await Promise.all([s.run(feeds(), 'backend-test'), s.run(feeds(), 'backend-test')]);
    expect(outs[0]!.emissions!.dims).toEqual([1, 2, 5]);
    expect(Array.from(outs[0]!.emissions!.data as Float32Array)).toEqual(
      Array.from(outs[1]!.emissions!.data as Float32Array),
    );
    const after = (await metrics.batchCompute.get()).values.find(
      (v) =>
        v.metricName?.endsWith('_count') && v.labels.step === 'backend-test' && v.labels.provider === 'cpu',
    )?.value;
    expect(after).toBe(before + 2);
    await s.dispose();
    await s.dispose();
    await expect(s.run(feeds(), 'backend-test')).rejects.toThrow(/backend-test: session .* is disposed/);
  });

  it('a file ORT cannot read gives a bundle error naming it', async () => {
    const bad = join(import.meta.dirname, '../../fixtures/models/crf-tagger/crf.json');
    await expect(ModelSession.open(bad)).rejects.toThrow(/crf\.json: ONNX Runtime could not open it/);
  });

  it('a run with a wrong input fails with the step and the model path', async () => {
    const s = await ModelSession.open(model);
    try {
      await expect(s.run({ word_ids: int64([1], [1, 1]) }, 'step-x')).rejects.toThrow(
        /step-x: ONNX Runtime failed on .*model\.onnx/,
      );
    } finally {
      await s.dispose();
    }
  });
});

describe('ORT backend on a worker thread (worker: true)', () => {
  const batch = () => ({
    word_ids: int64([2, 3, 4, 1, 2, 0], [2, 3]),
    char_ids: int64(
      Array.from({ length: 72 }, (_, i) => 2 + (i % 7)),
      [2, 3, 12],
    ),
    mask: float32([1, 1, 1, 1, 1, 0], [2, 3]),
  });

  it('opens worker sessions with the configured intra-op threads and reports them', async () => {
    expect(intraOpThreadsFor({ intraOpNumThreads: 3 })).toBe(3);
    expect(intraOpThreadsFor({ intraOpNumThreads: 0 })).toBe(0);
    const s = await ModelSession.open(model, { worker: true, intraOpNumThreads: 1 });
    expect(s.intraOpThreads).toBe(1);
    await s.dispose();
  });

  it('gives the in-thread outputs bit for bit, with the same metadata, and leaves the caller its feeds', async () => {
    const here = await ModelSession.open(model, { intraOpNumThreads: 1 });
    const there = await ModelSession.open(model, { intraOpNumThreads: 1, worker: true });
    try {
      expect(there.onWorker).toBe(true);
      expect(here.onWorker).toBe(false);
      expect(there.inputNames).toEqual(here.inputNames);
      expect(there.outputNames).toEqual(here.outputNames);
      expect(there.outputLastDim('emissions')).toBe(5);
      expect(there.inputShape('char_ids')).toEqual(here.inputShape('char_ids'));
      const f = batch();
      const a = await here.run(f, 'worker-test');
      const [b, c] = await Promise.all([there.run(f, 'worker-test'), there.run(f, 'worker-test')]);
      for (const o of [b!, c!]) {
        expect(o.emissions!.dims).toEqual(a.emissions!.dims);
        expect(o.emissions!.type).toBe('float32');
        expect(Buffer.from((o.emissions!.data as Float32Array).buffer)).toEqual(
          Buffer.from((a.emissions!.data as Float32Array).buffer),
        );
      }
      // Feeds are copied to the worker, not transferred: the caller's arrays stay readable.
      expect((f.word_ids.data as BigInt64Array).length).toBe(6);
    } finally {
      await here.dispose();
      await there.dispose();
    }
  });

  it('reports a bad run and an unreadable file like the in-thread session, and refuses runs after dispose', async () => {
    const s = await ModelSession.open(model, { worker: true });
    await expect(s.run({ word_ids: int64([1], [1, 1]) }, 'step-x')).rejects.toThrow(
      /step-x: ONNX Runtime failed on .*model\.onnx: .*char_ids/,
    );
    await expect(s.run(feeds(), 'step-x')).resolves.toHaveProperty('emissions');
    await s.dispose();
    await s.dispose();
    await expect(s.run(feeds(), 'step-x')).rejects.toThrow(/step-x: session .* is disposed/);
    const bad = join(import.meta.dirname, '../../fixtures/models/crf-tagger/crf.json');
    await expect(ModelSession.open(bad, { worker: true })).rejects.toThrow(
      /crf\.json: ONNX Runtime could not open it/,
    );
  });

  it('a worker that dies fails its pending runs, and the next run starts a fresh one', async () => {
    const s = await ModelSession.open(model, { worker: true });
    try {
      // The thread behind the session, reached through the private field for the test.
      const inner = (s as unknown as { sessions: { worker: import('node:worker_threads').Worker | null }[] })
        .sessions[0]!;
      const pending = s.run(feeds(), 'worker-test');
      await inner.worker!.terminate();
      await expect(pending).rejects.toThrow(/worker-test: ONNX Runtime failed on .*session worker exited/);
      const again = await s.run(feeds(), 'worker-test');
      expect(again.emissions!.dims).toEqual([1, 2, 5]);
    } finally {
      await s.dispose();
    }
  });
});
