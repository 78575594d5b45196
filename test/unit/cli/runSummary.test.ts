// `run`'s summary on stdout: beside the dead letters, the augmented records that were invalid or
// filtered, by reason (issue 17), counted per run although bioaug_augmented_rejected_total is
// process-wide.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { rejectedTotal } from '../../../src/augment/filterAugmented.ts';
import { main } from '../../../src/cli/main.ts';
import { tempDir } from '../../helpers/setup.ts';

const dir = tempDir('run-summary-');

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  process.exitCode = 0;
  try {
    await main(['node', 'bioaug-stream', 'run', ...args, '--no-console', '--progress-ms', '0']);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}

const rejected = async (reason: string): Promise<number> =>
  (await rejectedTotal.get()).values
    .filter((v) => v.labels.reason === reason)
    .reduce((n, v) => n + v.value, 0);

describe('run summary: augmented records invalid or filtered', () => {
  const input = join(dir, 'gold.conll');
  writeFileSync(input, 'colon\tB-Disease\ncancer\tI-Disease\nhurts\tO\n\nfever\tB-Disease\nnow\tO\n\n');
  const augment = (out: string, ...set: string[]): string[] => [
    'augment',
    ...['--source', `conll:${input}`, '--sink', `jsonl:${out}`, '--metrics-port', '0'],
    ...['--set', 'topologies.augment.methods=[sis]', '--set', 'topologies.augment.n=2'],
    ...['--set', 'topologies.augment.p=1', ...set.flatMap((s) => ['--set', `topologies.augment.${s}`])],
  ];

  it('counts what the quality filter dropped, by reason, in the summary and the metric', async () => {
    const before = await rejected('min-new-token-share');
    const out = join(dir, 'filtered.jsonl');
    // SiS only shuffles: no new tokens, so a 1% new-token floor rejects all 2 x 2 copies.
    const r = await run(...augment(out, 'quality.filter.minNewTokenShare=0.01'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('augment: 0 outputs in');
    expect(r.stdout).toMatch(
      / {2}dead letters: 0 -> stderr:\n {2}augmented invalid or filtered: 4 \(min-new-token-share 4\)\n/,
    );
    expect((await rejected('min-new-token-share')) - before).toBe(4);
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('says nothing when nothing was rejected in this run, whatever earlier runs counted', async () => {
    const out = join(dir, 'all.jsonl');
    const r = await run(...augment(out));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('augment: 4 outputs in');
    expect(r.stdout).not.toContain('augmented invalid or filtered');
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});
