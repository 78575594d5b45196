// `run`'s status: progress over inputs of known size, ETA at the average pace, the terminal line's bar.
import { describe, expect, it } from 'vitest';
import {
  etaSeconds,
  formatDuration,
  inputProgress,
  progressBar,
  runStatus,
  statusLine,
} from '../../../src/cli/runStatus.ts';

const src = (fraction: number, totalBytes: number) => ({
  progress: () => ({ fraction, totalBytes, bytesRead: 0 }),
});

describe('run status', () => {
  it('weighs progress by input size, and has none when any input has no known size', () => {
    expect(inputProgress({ a: src(0.5, 100) })).toBe(0.5);
    expect(inputProgress({ a: src(1, 300), b: src(0, 100) })).toBe(0.75);
    expect(inputProgress({ a: src(0.5, 100), kafka: { stats: {} } })).toBeUndefined();
    expect(inputProgress({})).toBeUndefined();
  });

  it('estimates the time left at the average pace so far', () => {
    expect(etaSeconds(0.25, 10_000)).toBe(30);
    expect(etaSeconds(1, 10_000)).toBe(0);
    expect(etaSeconds(0, 10_000)).toBeUndefined();
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });

  it('logs progress and etaSeconds with file inputs, and neither without', () => {
    const base = { topology: 't', in: 10, out: 8, ratePerSec: 2, deadLettered: 0, elapsedMs: 10_400 };
    expect(runStatus({ ...base, progress: 0.2567 })).toEqual({
      topology: 't',
      in: 10,
      out: 8,
      ratePerSec: 2,
      deadLettered: 0,
      elapsedSec: 10,
      progress: 0.257,
      etaSeconds: 30,
    });
    const kafka = runStatus({ ...base, lag: 5 });
    expect(kafka).not.toHaveProperty('progress');
    expect(kafka).not.toHaveProperty('etaSeconds');
  });

  it('leads the terminal line with a bar and ETA when progress is known', () => {
    expect(progressBar(0.3)).toBe('[######--------------]  30%');
    const line = statusLine(
      runStatus({
        topology: 'ner-tagging',
        in: 3,
        out: 2,
        ratePerSec: 1.5,
        deadLettered: 1,
        elapsedMs: 20_000,
        progress: 0.5,
      }),
    );
    expect(line).toBe(
      '[##########----------]  50% ETA 20s  ner-tagging: 3 in, 2 out (1.5/s), 1 dead-lettered, 20 s\n',
    );
    expect(
      statusLine(
        runStatus({ topology: 'x', in: 0, out: 0, ratePerSec: 0, deadLettered: 0, elapsedMs: 0, lag: 7 }),
      ),
    ).toBe('x: 0 in, 0 out (0.0/s), 0 dead-lettered, lag 7, 0 s\n');
  });
});
