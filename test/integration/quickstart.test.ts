// The README's Kafka quickstart, read from the README and run line by line through the CLI, as a user
// pasting it into a shell on a fresh clone without Docker would (the broker on a free port instead of
// 9092, so the test never collides with a broker already running).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePubtator } from '../../src/text/pubtator.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'src/cli/bin.mjs');

/** The shell lines of the README's "Kafka quickstart" code block. */
function quickstartLines(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Kafka quickstart'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no sh block under "### Kafka quickstart"');
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function start(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'error' } });
  const p: Proc = { child, stdout: '', stderr: '', exited: Promise.resolve(null) };
  child.stdout!.on('data', (d: Buffer) => (p.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  p.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return p;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('README Kafka quickstart', () => {
  it('runs end to end through the CLI: broker, produce, run, consume, kill', async () => {
    const lines = quickstartLines();
    expect(lines[0]).toMatch(/^bioaug-stream broker &$/);
    const cwd = root;
    const out = mkdtempSync(join(tmpdir(), 'quickstart-'));
    const background: Proc[] = [];
    let brokers = '';
    try {
      for (const line of lines) {
        if (line.startsWith('kill')) {
          // `kill %2; wait %2`: SIGTERM to that background job (1-based, in start order); it exits 0.
          for (const m of line.split(';')[0]!.matchAll(/%(\d+)/g)) {
            const p = background[Number(m[1]) - 1]!;
            p.child.kill('SIGTERM');
            expect(await p.exited, p.stderr).toBe(0);
          }
          continue;
        }
        const bg = line.endsWith('&');
        const words = line.replace(/&$/, '').trim().split(/\s+/);
        expect(words[0]).toBe('bioaug-stream');
        let args = words.slice(1);
        if (args[0] === 'broker') args = [...args, '--port', '0'];
        else args = [...args, '--brokers', brokers];
        // Files the quickstart writes under out/ go to a temporary folder instead.
        args = args.map((a) => a.replace(/(^|:)out\//, `$1${out}/`));
        const p = start(args, cwd);
        if (bg) {
          background.push(p);
          if (args[0] === 'broker') {
            await until(() => /on (127\.0\.0\.1:\d+)/.test(p.stdout), 30_000, 'the broker address');
            brokers = /on (127\.0\.0\.1:\d+)/.exec(p.stdout)![1]!;
          }
          continue;
        }
        expect(await p.exited, `${line}\n${p.stderr}`).toBe(0);
      }
      const docs = parsePubtator(readFileSync(join(root, 'topologies/samples/abstracts.pubtator'), 'utf8'));
      const written = readFileSync(join(out, 'quickstart.pubtator'), 'utf8').trim().split('\n');
      // Mention lines of the sample abstracts: offsets that slice the mention out of title + " " + abstract.
      expect(written.length).toBeGreaterThan(40);
      for (const l of written) {
        const [pmid, s, e, mention, type] = l.split('\t');
        const doc = docs.find((d) => d.pmid === pmid)!;
        expect(`${doc.title} ${doc.abstract}`.slice(Number(s), Number(e))).toBe(mention);
        expect(['Chemical', 'Disease']).toContain(type);
      }
    } finally {
      for (const p of background) p.child.kill('SIGKILL');
    }
  }, 180_000);
});
