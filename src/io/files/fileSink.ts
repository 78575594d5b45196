import { createWriteStream } from 'node:fs';
import { filter, mergeMap, type OperatorFunction } from 'rxjs';
import type { Writable } from 'node:stream';
import type { Envelope } from '../../engine/envelope.ts';
import type { Sink } from '../../engine/types.ts';

/** Options of a file sink. */
export interface FileSinkOptions {
  /** Most writes awaiting their flush callback; bounds the sink's buffered memory (default 1024). */
  maxPending?: number;
}

/**
 * A Sink writing one serialized chunk per envelope to a file or stream. Each token is acked when
 * its write has been flushed to the file descriptor (the write callback), so an ack means the data
 * left the process; a serialization or write error nacks that envelope only.
 */
export class FileSink<T> implements Sink<T> {
  private readonly stream: Writable;
  private readonly owned: boolean;
  private failed: Error | null = null;
  written = 0;

  constructor(
    readonly id: string,
    target: string | Writable,
    private readonly serialize: (value: T, env: Envelope<T>) => string,
    private readonly opts: FileSinkOptions = {},
    /** Text written once before the first record (e.g. a header); none by default. */
    private readonly prologue = '',
  ) {
    this.owned = typeof target === 'string';
    this.stream = typeof target === 'string' ? createWriteStream(target) : target;
    this.stream.on('error', (e) => {
      this.failed = e;
    });
    if (prologue) this.stream.write(prologue);
  }

  write(): OperatorFunction<Envelope<T>, Envelope<T>> {
    const writeOne = (env: Envelope<T>): Promise<Envelope<T> | null> =>
      new Promise((resolve) => {
        let chunk: string;
        try {
          if (this.failed) throw this.failed;
          chunk = this.serialize(env.value, env);
        } catch (e) {
          env.ack.nack(e, 'sink', this.id);
          resolve(null);
          return;
        }
        // Callbacks of one stream fire in write order, so outputs keep their input order.
        this.stream.write(chunk, (err) => {
          if (err) {
            env.ack.nack(err, 'sink', this.id);
            resolve(null);
          } else {
            this.written += 1;
            env.ack.ack();
            resolve(env);
          }
        });
      });
    // Envelopes that failed were nacked (their source dead-letters them) and are not emitted.
    return (src) =>
      src.pipe(
        mergeMap(writeOne, this.opts.maxPending ?? 1024),
        filter((e): e is Envelope<T> => e !== null),
      );
  }

  async close(): Promise<void> {
    if (!this.owned) {
      if (this.stream.writableNeedDrain) await new Promise((r) => this.stream.once('drain', r));
      return;
    }
    if (this.stream.writableFinished || this.stream.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}
