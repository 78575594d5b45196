// `run` on a file, stderr not a terminal: the periodic JSON status logs carry progress (0..1) and
// etaSeconds, from bytes read of the file's size (the terminal line's bar is tested in runStatus.test.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/setup.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = tempDir('run-progress-');

describe('run status logs', () => {
  it('logs progress and etaSeconds for a file source', async () => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'src/cli/bin.mjs'),
        'run',
        'ner-tagging',
        '--source',
        `pubtator:${join(root, 'topologies/samples/abstracts.pubtator')}`,
        '--sink',
        `jsonl:${join(out, 'predictions.jsonl')}`,
        '--progress-ms',
        '50',
        '--metrics-port',
        '0',
        '--no-console',
      ],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, stderr).toBe(0);
    const statuses = stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"status"'))
      .map((l) => JSON.parse(l) as { progress?: number; etaSeconds?: number });
    expect(statuses.length, stderr).toBeGreaterThan(0);
    for (const s of statuses) {
      expect(s.progress).toBeGreaterThanOrEqual(0);
      expect(s.progress).toBeLessThanOrEqual(1);
      if (s.progress! > 0) expect(s.etaSeconds).toBeGreaterThanOrEqual(0);
    }
  });
});
