// The study's cache key: issue 17's generation choices and filter enter it only when set away from
// their defaults, so cells cached before they existed keep their folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../src/io/dataPath.ts';
import {
  keysIgnoredBy,
  reusableCell,
  settingsOf,
  trainingSettingsOf,
  type StudyOptions,
} from '../../../training/study/study.ts';

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

  it('a cell without generation is found in a settings folder that differs only in generation choices', () => {
    const conv = { ...base, evalEvery: 50, patience: 8 };
    const filtered = settingsOf({ ...conv, filter: { topK: 2 }, mu: 0.8 });
    expect(trainingSettingsOf(filtered)).toBe(
      'n=5 p=0.3 steps=300 batch=8 select-dev=200 w2v=yes eval-every=50 patience=8',
    );
    const work = mkdtempSync(join(tmpdir(), 'study-reuse-'));
    try {
      const folder = (name: string, settings: string, cells: string[]): string => {
        const root = join(work, name);
        mkdirSync(root, { recursive: true });
        writeFileSync(join(root, 'settings.txt'), settings + '\n');
        for (const c of cells) {
          mkdirSync(join(root, c), { recursive: true });
          writeFileSync(join(root, c, 'result.json'), '{}');
        }
        return root;
      };
      // Other training settings (no patience): never reused, even with the cell finished.
      folder('a', settingsOf({ ...base, evalEvery: 50 }), ['ncbi-100-gold-s1']);
      const b = folder('b', settingsOf(conv), ['ncbi-100-gold-s1']);
      const mine = folder('c', filtered, []);
      expect(reusableCell(work, mine, 'ncbi-100-gold-s1', filtered)).toBe(join(b, 'ncbi-100-gold-s1'));
      // Unfinished elsewhere (no result.json): not reused.
      expect(reusableCell(work, mine, 'ncbi-100-gold-s2', filtered)).toBeNull();
      // Its own folder is not a source.
      expect(reusableCell(work, b, 'ncbi-100-gold-s1', settingsOf(conv))).toBeNull();
      // A gold cell ignores the gold weight (gold-only training has nothing to weigh gold against); others do not.
      const weighted = settingsOf({ ...conv, goldWeight: 2 });
      const w = folder('d', weighted, []);
      expect(keysIgnoredBy('gold')).toEqual(['gold-weight', 'finetune-gold']);
      expect(reusableCell(work, w, 'ncbi-100-gold-s1', weighted, keysIgnoredBy('gold'))).toBe(
        join(b, 'ncbi-100-gold-s1'),
      );
      expect(reusableCell(work, w, 'ncbi-100-gold-s1', weighted, keysIgnoredBy('sr'))).toBeNull();
      // Nor the gold-only second stage (--finetune-gold): gold cells have nothing to fine-tune after.
      const tuned = settingsOf({ ...conv, finetuneGold: true });
      expect(tuned).toBe(`${settingsOf(conv)} finetune-gold=yes`);
      const t = folder('e', tuned, []);
      expect(reusableCell(work, t, 'ncbi-100-gold-s1', tuned, keysIgnoredBy('gold'))).toBe(
        join(b, 'ncbi-100-gold-s1'),
      );
      expect(reusableCell(work, t, 'ncbi-100-gold-s1', tuned, keysIgnoredBy('bioaug'))).toBeNull();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
