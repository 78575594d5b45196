// The study's cache key: issue 17's generation choices and filter enter it only when set away from
// their defaults, so cells cached before they existed keep their folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { settingsOf, type StudyOptions } from '../../../training/study/study.ts';

const base: StudyOptions = {
  datasets: ['ncbi'],
  sizes: ['100'],
  seeds: [1],
  methods: ['gold'],
  n: 5,
  out: 'o',
  work: 'w',
  maxSteps: 300,
  batchSize: 8,
  selectDev: 200,
  p: 0.3,
  jobs: 1,
  topK: 10,
  w2v: 'x.kv',
  python: 'python3',
  limitTrain: 0,
  limitDev: 0,
  log: () => undefined,
};

describe('study settings key', () => {
  it('defaults leave the key as it was; each choice away from them is named', () => {
    const old = 'n=5 p=0.3 steps=300 batch=8 select-dev=200 w2v=yes topk=10';
    expect(settingsOf(base)).toBe(old);
    expect(settingsOf({ ...base, strategy: 'sample', numBeams: 4, samples: 1, mu: 0.5, filter: {} })).toBe(
      old,
    );
    expect(settingsOf({ ...base, strategy: 'beam-sample' })).toBe(`${old} strategy=beam-sample`);
    expect(settingsOf({ ...base, strategy: 'beam', numBeams: 6 })).toBe(`${old} strategy=beam beams=6`);
    expect(settingsOf({ ...base, samples: 4, mu: 0.8 })).toBe(`${old} samples=4 mu=0.8`);
    expect(settingsOf({ ...base, filter: { topK: 2, minNewTokenShare: 0.05 } })).toBe(
      `${old} filter=topK:2,minNewTokenShare:0.05`,
    );
  });

  it('training to convergence (eval-every, patience, gold weight) and a non-default generator are named when used', () => {
    const old = 'n=5 p=0.3 steps=300 batch=8 select-dev=200 w2v=yes topk=10';
    expect(settingsOf({ ...base, evalEvery: 0, patience: 0, goldWeight: 1 })).toBe(old);
    expect(settingsOf({ ...base, evalEvery: 50, patience: 5, goldWeight: 2 })).toBe(
      `${old} eval-every=50 patience=5 gold-weight=2`,
    );
    // The shipped generator is the default; another bundle is named with a hash of its model.json, so a
    // bundle retrained at the same path gets new cells.
    expect(settingsOf({ ...base, generator: join(projectRoot, 'models/generator') })).toBe(old);
    const dir = mkdtempSync(join(tmpdir(), 'study-gen-'));
    try {
      writeFileSync(join(dir, 'model.json'), '{"training":1}');
      const a = settingsOf({ ...base, generator: dir });
      expect(a).toMatch(new RegExp(`^${old} generator=${basename(dir)}@[0-9a-f]{8}$`));
      writeFileSync(join(dir, 'model.json'), '{"training":2}');
      expect(settingsOf({ ...base, generator: dir })).not.toBe(a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
