// `run`'s console switch through the CLI: on by default on loopback, off with --no-console, and off
// by default where the metrics server listens beyond loopback (the page shows record contents).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');

/** Starts `run ner-tagging` on stdin, reads GET / once the server is up, then ends the input. */
async function pageOf(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stderr: string; body: string; type: string }> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'run',
      'ner-tagging',
      '--source',
      'stdin:pubtator',
      '--sink',
      'stdout:jsonl',
      '--metrics-port',
      '0',
      '--progress-ms',
      '0',
      ...args,
    ],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env } },
  );
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The server's startup log line names its port (whether or not the console is mounted).
      const m = /"port":(\d+),"msg":"serving/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`run exited (${code}): ${stderr}`)));
  });
  const res = await fetch(`http://127.0.0.1:${port}/`);
  const body = await res.text();
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  return { stderr, body, type: res.headers.get('content-type') ?? '' };
}

describe('run --console / --no-console', () => {
  it('serves the page on loopback by default and prints its address', async () => {
    const r = await pageOf([]);
    expect(r.stderr).toMatch(/console: http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.type).toContain('text/html');
    expect(r.body).toContain('bioaug-stream console');
  });

  it('--no-console leaves / to the metrics server', async () => {
    const r = await pageOf(['--no-console']);
    expect(r.stderr).not.toContain('console: http');
    expect(r.body).toBe('bioaug-stream: /metrics /healthz /readyz\n');
  });

  it('is off by default beyond loopback, and says how to turn it on', async () => {
    const r = await pageOf([], { METRICS_HOST: '0.0.0.0' });
    expect(r.stderr).toContain(
      'console: off (metrics.host 0.0.0.0 is not loopback; --console serves it there)',
    );
    expect(r.body).not.toContain('bioaug-stream console');
    const on = await pageOf(['--console'], { METRICS_HOST: '0.0.0.0' });
    expect(on.body).toContain('bioaug-stream console');
  });
});
