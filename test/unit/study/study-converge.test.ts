// The study's training-to-convergence mechanics (issue 17, item 4) on a tiny slice: dev scored every
// few steps, early stopping with a patience, the same step maximum for every method, gold up-weighted
// by repetition, the steps each cell used in its result and in study.json/md, and the cache.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import type { CellResult, StudyRecord } from '../../../training/study/aggregate.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { tempDir } from '../../helpers/setup.ts';

const skip = skipWithoutSharedData('study convergence smoke');

describe.skipIf(skip)('bioaug-stream study: early stopping, gold weight, steps used', () => {
  const dir = tempDir('study-converge-');
  const out = join(dir, 'results');
  const work = join(dir, 'work');
  // 12 gold sentences, SiS x2, at most 40 steps, dev (40 sentences) every 5 steps, patience 2, gold x2.
  const argv = [
    ...['node', 'bioaug-stream', 'study', '--dataset', 'ncbi', '--size', '100', '--seeds', '1'],
    ...['--methods', 'gold,sis', '--n', '2', '--steps', '40', '--eval-every', '5', '--patience', '2'],
    ...['--gold-weight', '2', '--select-dev', '40', '--limit-train', '12', '--limit-dev', '40'],
    ...['--no-w2v', '--out', out, '--work', work],
  ];

  it('runs every cell under the same step maximum, records steps used and the gold weight, and caches', async () => {
    await main(argv);
    const [hash] = readdirSync(work);
    const root = join(work, hash!);
    expect(readFileSync(join(root, 'settings.txt'), 'utf8')).toContain(
      'steps=40 batch=8 select-dev=40 w2v=no topk=10 eval-every=5 patience=2 gold-weight=2',
    );
    for (const method of ['gold', 'sis']) {
      const cell = join(root, `ncbi-100-${method}-s1`);
      const r = JSON.parse(readFileSync(join(cell, 'result.json'), 'utf8')) as CellResult;
      const card = JSON.parse(readFileSync(join(cell, 'bundle', 'model.json'), 'utf8')) as {
        training: { history: Array<{ step: number }>; steps_run: number; patience: number };
      };
      expect(r.steps_run).toBeGreaterThan(0);
      expect(r.steps_run).toBeLessThanOrEqual(40);
      expect(r.best_step).toBeLessThanOrEqual(r.steps_run!);
      // Evaluated at the same steps whatever the epoch length: every 5 steps (and at the last).
      const at = card.training.history.map((h) => h.step);
      expect(at.slice(0, -1).every((s) => s % 5 === 0)).toBe(true);
      expect(at.at(-1)).toBe(r.steps_run);
      // Stopped early exactly `patience` evaluations after its best; otherwise it ran the maximum.
      if (r.stopped_early) expect(r.steps_run! - r.best_step!).toBe(2 * 5);
      else expect(r.steps_run).toBe(40);
      expect(card.training.patience).toBe(2);
    }
    const sisLog = readFileSync(join(root, 'ncbi-100-sis-s1', 'train.log'), 'utf8');
    // 12 gold sentences twice + 24 SiS copies once per epoch.
    expect(sisLog).toContain('ner: --train-repeat [2, 1]: 48 training sentences per epoch');
    expect(existsSync(join(root, 'ncbi-100-gold-s1', 'train-gold.conll'))).toBe(false);
    const records = (JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as { records: StudyRecord[] })
      .records;
    expect(records.map((r) => [r.method, r.gold_weight])).toEqual([
      ['gold', 1],
      ['sis', 2],
    ]);
    for (const r of records) expect(r.steps_per_seed?.['1']?.run).toBeLessThanOrEqual(40);
    expect(readFileSync(join(out, 'study.md'), 'utf8')).toMatch(
      /\| ncbi \| 100 \| sis \| .* \| 1: \d+\*? \(\d+\) \|$/m,
    );

    // Rerun: every cell from the cache.
    const log = join(root, 'ncbi-100-sis-s1', 'train.log');
    const before = statSync(log).mtimeMs;
    await main(argv);
    expect(statSync(log).mtimeMs).toBe(before);
  }, 240_000);

  it('--finetune-gold: after gold + augmentations, a gold-only stage from the selected state, within the step maximum', async () => {
    const tunedOut = join(dir, 'results-ft');
    const tunedWork = join(dir, 'work-ft');
    await main([
      ...['node', 'bioaug-stream', 'study', '--dataset', 'ncbi', '--size', '100', '--seeds', '1'],
      ...['--methods', 'sis', '--n', '2', '--steps', '80', '--eval-every', '5', '--patience', '2'],
      ...['--finetune-gold', '--select-dev', '40', '--limit-train', '12', '--limit-dev', '40'],
      ...['--no-w2v', '--out', tunedOut, '--work', tunedWork],
    ]);
    const [hash] = readdirSync(tunedWork);
    const root = join(tunedWork, hash!);
    expect(readFileSync(join(root, 'settings.txt'), 'utf8')).toContain('patience=2 finetune-gold=yes');
    const cell = join(root, 'ncbi-100-sis-s1');
    const r = JSON.parse(readFileSync(join(cell, 'result.json'), 'utf8')) as CellResult;
    const log = readFileSync(join(cell, 'train.log'), 'utf8');
    // Gold and augmentations as two files: the first stage reads both, the second the gold one alone.
    expect(log).toContain('ner: 36 train / 40 dev sentences');
    expect(log).toMatch(/ner: fine-tune on \S*train-gold\.conll: \d+ steps, dev F1 /);
    expect(r.finetune).toBeDefined();
    expect(r.finetune!.steps).toBeGreaterThan(0);
    expect(r.finetune!.selectF1After).toBeGreaterThanOrEqual(r.finetune!.selectF1Before);
    expect(r.finetune!.improved).toBe(r.finetune!.selectF1After > r.finetune!.selectF1Before);
    // Both stages together stay under the maximum, and the exported step is one of theirs.
    expect(r.steps_run).toBeLessThanOrEqual(80);
    expect(r.best_step).toBeLessThanOrEqual(r.steps_run!);
    const card = JSON.parse(readFileSync(join(cell, 'bundle', 'model.json'), 'utf8')) as {
      training: { finetune: { start_step: number; steps: number; sentences: number } };
    };
    expect(card.training.finetune.sentences).toBe(12);
    expect(card.training.finetune.start_step + card.training.finetune.steps).toBe(r.steps_run);
    await expect(
      main([...argv.slice(0, 3), '--finetune-gold', '--methods', 'sis', '--out', out, '--work', work]),
    ).rejects.toThrow(/--finetune-gold needs --eval-every and --patience/);
  }, 240_000);

  it('refuses a patience counted in epochs (longer epochs for more augmentations) and a fractional gold weight', async () => {
    await expect(
      main([...argv.slice(0, 3), '--patience', '2', '--methods', 'gold', '--out', out, '--work', work]),
    ).rejects.toThrow(/--patience needs --eval-every/);
    await expect(main([...argv, '--gold-weight', '1.5'])).rejects.toThrow(
      /--gold-weight must be an integer >= 1/,
    );
  });
});
