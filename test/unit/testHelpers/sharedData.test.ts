// The shared-data guard: skips only outside CI, says why, and is the only guard of its kind.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { inCi, skipWithoutSharedData } from '../../helpers/sharedData.ts';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('skipWithoutSharedData', () => {
  const saved = process.env.BIOSTREAM_DATA;
  afterEach(() => {
    if (saved === undefined) delete process.env.BIOSTREAM_DATA;
    else process.env.BIOSTREAM_DATA = saved;
    vi.restoreAllMocks();
  });

  it('never skips in CI; outside CI it skips only without the data, and says why', () => {
    process.env.BIOSTREAM_DATA = '/no/such/shared/data';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(skipWithoutSharedData('x', { CI: 'true' })).toBe(false);
    expect(skipWithoutSharedData('x', { CI: '1' })).toBe(false);
    expect(warn).not.toHaveBeenCalled();
    expect(skipWithoutSharedData('corpus checks', {})).toBe(true);
    expect(skipWithoutSharedData('corpus checks', { CI: 'false' })).toBe(true);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^corpus checks: skipped, shared data folder \/no\/such\/shared\/data absent/),
    );
    process.env.BIOSTREAM_DATA = projectRoot; // any existing folder
    expect(skipWithoutSharedData('x', {})).toBe(false);
    expect(inCi({ CI: 'true' }) && !inCi({}) && !inCi({ CI: '0' })).toBe(true);
  });

  it('is the one guard: no test file defines its own hasData() skip', () => {
    const own = walk(join(projectRoot, 'test'))
      .filter((f) => /\.test\.ts$/.test(f) && !f.endsWith('sharedData.test.ts'))
      .filter((f) => /hasData\(\)|!process\.env\.CI\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(projectRoot, f));
    expect(own).toEqual([]);
  });
});
