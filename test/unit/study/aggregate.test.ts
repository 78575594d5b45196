import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  meanStd,
  mergeRecords,
  renderMarkdown,
  type CellResult,
} from '../../../training/study/aggregate.ts';
import { renderChart, textWidth } from '../../../training/study/chart.ts';

function cell(method: string, seed: number, f1: number, extra: Partial<CellResult> = {}): CellResult {
  return {
    dataset: 'ncbi',
    size: '100',
    method,
    seed,
    f1,
    precision: f1,
    recall: f1,
    n_train_sentences: method === 'gold' ? 100 : 600,
    n_augmented_valid: method === 'gold' ? 0 : 500,
    best_epoch: 3,
    epochs_run: 5,
    train_minutes: 1,
    generation:
      method === 'gold'
        ? { produced: 0, valid: 0, new_token_share: 0, mean_abs_length_diff: 0 }
        : { produced: 500, valid: 500, new_token_share: 0.1, mean_abs_length_diff: 1 },
    settings: 's',
    ...extra,
  };
}

describe('study aggregation', () => {
  it('mean and sample std', () => {
    expect(meanStd([2, 4, 6])).toEqual({ mean: 4, std: 2 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    expect(() => meanStd([])).toThrow(/empty/);
  });

  it('groups cells per dataset/size/method with per-seed values and pooled generation quality', () => {
    const rs = aggregate([
      cell('bioaug', 2, 60, {
        generation: {
          produced: 500,
          valid: 100,
          new_token_share: 0.5,
          mean_abs_length_diff: 3,
          invalid_reasons: { 'mask-left': 400 },
        },
      }),
      cell('gold', 1, 50),
      cell('bioaug', 1, 58, {
        generation: {
          produced: 500,
          valid: 300,
          new_token_share: 0.1,
          mean_abs_length_diff: 1,
          invalid_reasons: { 'mask-left': 150, 'entity-altered': 50 },
        },
      }),
      cell('gold', 2, 54),
    ]);
    expect(rs.map((r) => r.method)).toEqual(['gold', 'bioaug']);
    const [gold, bio] = rs;
    expect(gold!.f1_mean).toBe(52);
    expect(gold!.f1_std).toBeCloseTo(2.83, 2);
    expect(gold!.f1_per_seed).toEqual({ '1': 50, '2': 54 });
    expect(gold!.generation).toBeUndefined();
    expect(bio!.seeds).toBe(2);
    // 400 of 1000 survived; shares weighted by survivors: (0.1*300 + 0.5*100) / 400 = 0.2
    expect(bio!.generation).toMatchObject({
      valid_share: 0.4,
      new_token_share: 0.2,
      mean_abs_length_diff: 1.5,
    });
    expect(bio!.generation!.invalid_reasons).toEqual({ 'mask-left': 550, 'entity-altered': 50 });
  });

  it('refuses to pool cells run under different settings', () => {
    expect(() => aggregate([cell('gold', 1, 50), cell('gold', 2, 50, { settings: 'other' })])).toThrow(
      /different settings/,
    );
  });

  it('merges fresh records over existing ones, keeping other datasets', () => {
    const old = aggregate([cell('gold', 1, 40), cell('gold', 1, 70, { dataset: 'bc5cdr' })]);
    const fresh = aggregate([cell('gold', 1, 50), cell('mr', 1, 55)]);
    const m = mergeRecords(old, fresh);
    expect(m.map((r) => `${r.dataset}/${r.method}/${r.f1_mean}`)).toEqual([
      'bc5cdr/gold/70',
      'ncbi/gold/50',
      'ncbi/mr/55',
    ]);
  });

  it('renders a Markdown table with the delta to gold', () => {
    const md = renderMarkdown(aggregate([cell('gold', 1, 50), cell('mr', 1, 53.5), cell('sis', 1, 48)]));
    expect(md).toMatch(/\| ncbi \| 100 \| mr \| 53\.50 \| 0\.00 \| \+3\.50 \|/);
    expect(md).toMatch(/\| ncbi \| 100 \| sis \| 48\.00 \| 0\.00 \| -2\.00 \|/);
  });

  it('reports the steps each seed trained and the exported step, and the gold weight', () => {
    const steps = (run: number, best: number, early: boolean) => ({
      steps_run: run,
      best_step: best,
      stopped_early: early,
    });
    const rs = aggregate([
      cell('gold', 1, 50, steps(300, 250, false)),
      cell('mr', 1, 52, { ...steps(150, 50, true), gold_weight: 2 }),
      cell('mr', 2, 54, { ...steps(300, 300, false), gold_weight: 2 }),
      // a cell cached before steps were recorded: no steps for its record
      cell('sis', 1, 48),
    ]);
    expect(rs.find((r) => r.method === 'mr')).toMatchObject({
      steps_per_seed: {
        '1': { run: 150, best: 50, early: true },
        '2': { run: 300, best: 300, early: false },
      },
      gold_weight: 2,
    });
    expect(rs.find((r) => r.method === 'sis')!.steps_per_seed).toBeUndefined();
    const md = renderMarkdown(rs);
    expect(md).toMatch(/\| ncbi \| 100 \| mr \| .* \| 1: 150\* \(50\), 2: 300 \(300\) \|$/m);
    expect(md).toMatch(/\| ncbi \| 100 \| gold \| .* \| 1: 300 \(250\) \|$/m);
    expect(md).toMatch(/\| ncbi \| 100 \| sis \| .* \| {2}\|$/m);
  });
});

describe('study chart', () => {
  it('draws a decodable PNG whose bar heights follow F1', () => {
    const rs = aggregate([
      cell('gold', 1, 50),
      cell('mr', 1, 80),
      cell('gold', 1, 20, { dataset: 'bc5cdr' }),
    ]);
    const png = PNG.sync.read(renderChart(rs));
    expect(png.width).toBeGreaterThan(200);
    expect(png.height).toBeGreaterThan(300);
    // Count bar-coloured pixels in each bar's column: gold (grey) bars at 20 and 50, mr (blue) at 80.
    const count = (rgb: [number, number, number]) => {
      const cols = new Map<number, number>();
      for (let y = 0; y < png.height; y++)
        for (let x = 0; x < png.width; x++) {
          const i = (y * png.width + x) * 4;
          if (png.data[i] === rgb[0] && png.data[i + 1] === rgb[1] && png.data[i + 2] === rgb[2])
            cols.set(x, (cols.get(x) ?? 0) + 1);
        }
      return Math.max(0, ...cols.values());
    };
    const blue = count([78, 121, 167]);
    const grey = count([120, 120, 120]);
    // plot height 300 px for F1 100: mr bar 240 px, tallest gold bar 150 px
    expect(blue).toBe(240);
    expect(grey).toBe(150);
    expect(textWidth('abc', 2)).toBe(36);
  });

  it('refuses an empty chart', () => {
    expect(() => renderChart([])).toThrow(/no records/);
  });
});
