// Progress of a file source (FileSource.progress): records settled out of the records the input is
// estimated to hold, from bytes read of the file's size; gzip counted in compressed bytes; none on stdin.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/engine/envelope.ts';
import { openSource } from '../../../src/io/files/index.ts';
import { readAll } from './helpers.ts';
import { tempDir } from '../../helpers/setup.ts';

const tmp = tempDir('progress-');
const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `r${i}`, text: 'x'.repeat(50) }));

describe('file source progress', () => {
  it('counts settled records, not records read ahead, and reaches 1 when the source completes', async () => {
    const p = join(tmp, 'a.jsonl');
    writeFileSync(p, `${lines.join('\n')}\n`);
    const src = openSource(`jsonl:${p}`, { maxInFlight: 1000 });
    expect(src.progress()).toEqual({ fraction: 0, bytesRead: 0, totalBytes: expect.any(Number) as number });
    const held: Array<Envelope<unknown>> = [];
    const seen = new Promise<void>((resolve, reject) => {
      src.open().subscribe({
        next: (e) => {
          held.push(e);
          if (held.length === lines.length) resolve();
        },
        error: reject,
      });
    });
    await seen;
    // The whole file is read, nothing is settled: 0 done, though every byte was read.
    const read = src.progress()!;
    expect(read.bytesRead).toBe(read.totalBytes);
    expect(read.fraction).toBe(0);
    for (const e of held.slice(0, 50)) e.ack.ack();
    expect(src.progress()!.fraction).toBeCloseTo(0.25, 5);
    for (const e of held.slice(50)) e.ack.ack();
    await new Promise((r) => setTimeout(r, 20));
    expect(src.progress()!.fraction).toBe(1);
  });

  it('measures gzip input in compressed bytes against the file size, and sums a folder', async () => {
    const dir = join(tmp, 'folder');
    mkdirSync(dir);
    writeFileSync(join(dir, '1.jsonl'), gzipSync(`${lines.join('\n')}\n`));
    writeFileSync(join(dir, '2.jsonl'), `${lines.slice(0, 10).join('\n')}\n`);
    const src = openSource(`jsonl:${dir}`);
    await readAll(src);
    const p = src.progress()!;
    expect(p.fraction).toBe(1);
    expect(p.bytesRead).toBe(p.totalBytes);
  });

  it('has no progress on stdin (size unknown)', async () => {
    const stdin = new PassThrough();
    const src = openSource('stdin:jsonl', { stdin });
    stdin.end(`${lines[0]}\n`);
    await readAll(src);
    expect(src.progress()).toBeUndefined();
  });
});
