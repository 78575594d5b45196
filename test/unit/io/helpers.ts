import type { Envelope } from '../../../src/engine/envelope.ts';
import type { DeadLetterInput, DeadLetterWriter, Source } from '../../../src/engine/types.ts';

/** Dead letters collected in memory by the tests. */
export class CollectingDeadLetters implements DeadLetterWriter {
  readonly records: DeadLetterInput[] = [];
  write(r: DeadLetterInput): Promise<void> {
    this.records.push(r);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** The first failure message of each record. */
  get messages(): string[] {
    return this.records.map((r) => r.failures[0]?.error.message ?? '');
  }
}

/** Reads a whole source acking each envelope on arrival (the source completes only when all settle). */
export function readAll<T>(src: Source<T>): Promise<Array<Envelope<T>>> {
  return new Promise((resolve, reject) => {
    const out: Array<Envelope<T>> = [];
    src.open().subscribe({
      next: (e) => {
        out.push(e);
        e.ack.ack();
      },
      error: reject,
      complete: () => resolve(out),
    });
  });
}
