import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import type { StudyRecord } from '../../../training/study/aggregate.ts';
import { tempDir } from '../../helpers/setup.ts';

const skip = skipWithoutSharedData('study smoke');

describe.skipIf(skip)('bioaug-stream study on a slice of ncbi/100', () => {
  const dir = tempDir('study-smoke-');
  const out = join(dir, 'results');
  const work = join(dir, 'work');
  // 12 gold sentences, one seed, 6 optimizer steps, 40 dev sentences, random embeddings: real augmentation,
  // training, ONNX export and engine evaluation, small enough for CI.
  const argv = [
    'node',
    'bioaug-stream',
    'study',
    '--dataset',
    'ncbi',
    '--size',
    '100',
    '--seeds',
    '1',
    '--methods',
    'gold,sis,bioaug',
    '--n',
    '2',
    '--steps',
    '6',
    '--select-dev',
    '40',
    '--limit-train',
    '12',
    '--limit-dev',
    '40',
    '--no-w2v',
    '--out',
    out,
    '--work',
    work,
  ];

  it('trains one model per method and seed, writes study.json/md/png, and resumes from the cache', async () => {
    await main(argv);
    const records = (JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as { records: StudyRecord[] })
      .records;
    expect(records.map((r) => r.method)).toEqual(['gold', 'sis', 'bioaug']);
    for (const r of records) {
      expect(Object.keys(r.f1_per_seed)).toEqual(['1']);
      expect(r.f1_mean).toBeGreaterThanOrEqual(0);
      expect(r.f1_mean).toBeLessThanOrEqual(100);
    }
    const gold = records[0]!;
    const sis = records[1]!;
    expect(gold.n_train_sentences).toBe(12);
    // SiS keeps every sentence valid: 12 gold + 2 copies each.
    expect(sis.n_train_sentences).toBe(36);
    expect(sis.generation).toMatchObject({ produced: 24, valid: 24, valid_share: 1, new_token_share: 0 });
    // BioAug through the shipped generator: every generation is either kept or counted with its reason.
    const g = records[2]!.generation!;
    expect(g.produced).toBe(24);
    expect(g.valid + Object.values(g.invalid_reasons ?? {}).reduce((a, b) => a + b, 0)).toBe(24);
    expect(records[2]!.n_train_sentences).toBe(12 + g.valid);
    if (g.valid === 0) expect(records[2]!.f1_per_seed).toEqual(gold.f1_per_seed);
    expect(readFileSync(join(out, 'study.md'), 'utf8')).toMatch(/\| ncbi \| 100 \| sis \|/);
    const png = PNG.sync.read(readFileSync(join(out, 'study.png')));
    expect(png.width).toBeGreaterThan(100);

    // Second run: every cell comes from the cache (no training log rewritten).
    const log = (await import('node:fs'))
      .readdirSync(work)
      .map((h) => join(work, h, 'ncbi-100-sis-s1', 'train.log'))[0]!;
    const before = statSync(log).mtimeMs;
    await main(argv);
    expect(statSync(log).mtimeMs).toBe(before);
    const again = (JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as { records: StudyRecord[] })
      .records;
    expect(again.map((r) => r.f1_per_seed)).toEqual(records.map((r) => r.f1_per_seed));
  }, 240_000);

  it('names the valid methods for an unknown one', async () => {
    await expect(
      main([...argv.slice(0, 3), '--methods', 'gold,eda', '--out', out, '--work', work]),
    ).rejects.toThrow(/unknown method "eda"; valid: gold, mr, lwtr, sis, sr, all4, bioaug/);
  });
});
