import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Origin } from '../../engine/envelope.ts';
import type { DeadLetterInput, DeadLetterWriter } from '../../engine/types.ts';
import type { DeadLetter } from '../avro/types.generated.ts';
import { toJsonLine } from './jsonl.ts';

/** Maps an origin to the DeadLetter schema's origin record. */
export function deadLetterOrigin(o: Origin): DeadLetter['origin'] {
  const none = { topic: null, partition: null, offset: null, path: null, position: null, line: null };
  if (o.kind === 'kafka')
    return { ...none, kind: 'kafka', topic: o.topic, partition: o.partition, offset: o.offset };
  if (o.kind === 'file')
    return { ...none, kind: 'file', path: o.path, position: o.index, line: o.line ?? null };
  return { ...none, kind: 'memory', path: o.source, position: o.index };
}

/** The DeadLetter value (schemas/DeadLetter.avsc) of a failed record: first failure on top, all in `failures`. */
export function deadLetterValue(r: DeadLetterInput, now: number = Date.now()): DeadLetter {
  const failures = r.failures.map((f) => ({
    stage: f.stage,
    step: f.stepId,
    errorClass: f.error.name,
    message: f.error.message,
  }));
  const first = failures[0] ?? { stage: 'unknown', step: 'unknown', errorClass: 'Error', message: '' };
  return {
    raw: r.raw,
    key: r.key,
    headers: r.headers,
    ...first,
    origin: deadLetterOrigin(r.origin),
    failures,
    timestamp: now,
  };
}

/**
 * Dead letters as JSONL: one DeadLetter value per line, raw bytes in base64. `write` resolves once
 * the line is flushed to the file.
 */
export class FileDeadLetterWriter implements DeadLetterWriter {
  private readonly stream: Writable;
  private readonly owned: boolean;
  count = 0;

  constructor(
    target: string | Writable,
    private readonly clock: () => number = Date.now,
    /** One readable line per dead letter (stage, step, error, origin) instead of the whole record: the terminal default. */
    private readonly summary = false,
  ) {
    this.owned = typeof target === 'string';
    this.stream = typeof target === 'string' ? createWriteStream(target, { flags: 'a' }) : target;
  }

  write(record: DeadLetterInput): Promise<void> {
    const line = this.summary ? deadLetterSummary(record) : toJsonLine(deadLetterValue(record, this.clock()));
    return new Promise((resolve, reject) => {
      this.stream.write(line, (err) => {
        if (err) reject(err);
        else {
          this.count += 1;
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    if (!this.owned || this.stream.writableFinished || this.stream.destroyed) return;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}

/** One line about a dead letter: where it came from, the failing step and its error (no raw bytes). */
export function deadLetterSummary(r: DeadLetterInput): string {
  const o = r.origin;
  const where =
    o.kind === 'kafka'
      ? `${o.topic}[${o.partition}]@${o.offset}`
      : o.kind === 'file'
        ? `${o.path}${o.line !== undefined ? `:${o.line}` : ` #${o.index}`}`
        : `${o.source} #${o.index}`;
  const f = r.failures[0];
  const why = f ? `${f.stage}/${f.stepId}: ${f.error.name}: ${f.error.message}` : 'unknown failure';
  const key = r.key !== null ? ` key ${JSON.stringify(r.key)}` : '';
  return `dead letter: ${where}${key}: ${why.replace(/\s*\n\s*/g, ' ')}\n`;
}
