import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadLetterWriteError, writeDeadLetter } from '../../../src/engine/deadLetters.ts';
import { MemorySource } from '../../../src/engine/memory.ts';
import type { DeadLetterInput, DeadLetterWriter, Source } from '../../../src/engine/types.ts';
import { openSource } from '../../../src/io/files/index.ts';
import { SinkWriteError } from '../../../src/io/kafka/errors.ts';
import { tempDir } from '../../helpers/setup.ts';

/** A dead-letter writer whose first `failures` writes throw `error` (all of them when Infinity). */
class FlakyWriter implements DeadLetterWriter {
  calls = 0;
  readonly written: DeadLetterInput[] = [];
  constructor(
    private readonly failures: number,
    private readonly error: () => Error,
  ) {}
  write(r: DeadLetterInput): Promise<void> {
    this.calls += 1;
    if (this.calls <= this.failures) return Promise.reject(this.error());
    this.written.push(r);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const record: DeadLetterInput = {
  raw: Buffer.from('x'),
  key: 'k',
  headers: {},
  origin: { kind: 'memory', source: 'test', index: 0 },
  failures: [{ stage: 'step', stepId: 'parse', error: new Error('bad record') }],
};
const fast = { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 2 };

/** Subscribes, nacks every record, and resolves with how the stream ended. */
function endOf<T>(src: Source<T>): Promise<{ error?: unknown; completed?: boolean }> {
  return new Promise((resolve) => {
    src.open().subscribe({
      next: (e) => e.ack.nack(new Error('refused by the step'), 'step', 'refuse'),
      error: (error: unknown) => resolve({ error }),
      complete: () => resolve({ completed: true }),
    });
  });
}

const tmp = tempDir('dlq-policy-');

describe('the one dead-letter policy (Kafka, file and memory sources)', () => {
  it('retries a failing write with backoff and succeeds within the bound', async () => {
    const w = new FlakyWriter(2, () => new Error('EAGAIN'));
    await writeDeadLetter(w, record, 'src', fast);
    expect([w.calls, w.written.length]).toEqual([3, 1]);
  });

  it('gives up after maxAttempts with a DeadLetterWriteError naming the source, attempts and cause', async () => {
    const w = new FlakyWriter(Infinity, () => new Error('ENOSPC: no space left on device'));
    const err = await writeDeadLetter(w, record, 'kafka:abstracts', fast).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadLetterWriteError);
    expect(w.calls).toBe(4);
    const e = err as DeadLetterWriteError;
    expect(e.message).toMatch(
      /^kafka:abstracts: dead letter not written after 4 attempt\(s\): Error: ENOSPC/,
    );
    expect([e.stage, e.retriable, e.attempts]).toEqual(['dead-letter', false, 4]);
    expect(e.hint).toMatch(/will be read again/);
  });

  it('does not retry an error that says it is not retriable (e.g. MESSAGE_TOO_LARGE from the Kafka sink)', async () => {
    const w = new FlakyWriter(Infinity, () => new SinkWriteError('MESSAGE_TOO_LARGE', false));
    await expect(writeDeadLetter(w, record, 'src', fast)).rejects.toThrow(
      /after 1 attempt\(s\): SinkWriteError/,
    );
    expect(w.calls).toBe(1);
  });

  it('a memory source ends its stream with the error instead of skipping the record', async () => {
    const w = new FlakyWriter(Infinity, () => new SinkWriteError('TOPIC_AUTHORIZATION_FAILED', false));
    const src = new MemorySource('mem', [1, 2, 3], { deadLetters: w, maxInFlight: 1 });
    const end = await endOf(src);
    expect(end.error).toBeInstanceOf(DeadLetterWriteError);
    expect(src.acked).toEqual([]);
  });

  it('a file source does the same (it used to log, give up and go on)', async () => {
    const p = join(tmp, 'in.jsonl');
    writeFileSync(p, '{"a":1}\n{"a":2}\n');
    const w = new FlakyWriter(Infinity, () => new SinkWriteError('no permission', false));
    const end = await endOf(openSource(`jsonl:${p}`, { deadLetters: w }));
    expect(end.error).toBeInstanceOf(DeadLetterWriteError);
    expect((end.error as Error).message).toMatch(/no permission/);
  });

  it('a file source with a writer that recovers completes, every record dead-lettered once', async () => {
    const p = join(tmp, 'ok.jsonl');
    writeFileSync(p, '{"a":1}\n{"a":2}\n');
    const w = new FlakyWriter(1, () => new Error('EAGAIN'));
    const end = await endOf(openSource(`jsonl:${p}`, { deadLetters: w }));
    expect(end.completed).toBe(true);
    expect(w.written).toHaveLength(2);
  });

  it('a file source under policy stop is not ready after its stream failed, naming the error', async () => {
    const p = join(tmp, 'stop.jsonl');
    writeFileSync(p, '{"a":1}\n');
    const w = new FlakyWriter(Infinity, () => new SinkWriteError('TOPIC_AUTHORIZATION_FAILED', false));
    const src = openSource(`jsonl:${p}`, { deadLetters: w, deadLetterOnFailure: 'stop' });
    expect(src.health()).toEqual({ ready: true });
    const end = await endOf(src);
    expect(end.error).toBeInstanceOf(DeadLetterWriteError);
    expect(src.health()).toMatchObject({
      ready: false,
      reason: expect.stringContaining('TOPIC_AUTHORIZATION_FAILED'),
    });
  });

  it('a file source under policy block holds the record not ready, retries, and completes once it is written', async () => {
    const p = join(tmp, 'block.jsonl');
    writeFileSync(p, '{"a":1}\n{"a":2}\n');
    // Not retriable: writeDeadLetter gives up at once, then the block loop retries every 20 ms.
    const w = new FlakyWriter(6, () => new SinkWriteError('TOPIC_AUTHORIZATION_FAILED', false));
    const src = openSource(`jsonl:${p}`, {
      deadLetters: w,
      deadLetterOnFailure: 'block',
      deadLetterRetryMs: 20,
    });
    const seen: boolean[] = [];
    const probe = setInterval(() => seen.push(src.health().ready), 5);
    const end = await endOf(src);
    clearInterval(probe);
    expect(end.completed).toBe(true);
    expect(seen).toContain(false);
    expect(src.health()).toEqual({ ready: true });
    expect(w.written.map((r) => (r.origin.kind === 'file' ? r.origin.line : 0)).sort()).toEqual([1, 2]);
  });
});
