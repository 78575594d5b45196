import { Observable } from 'rxjs';
import { AckToken, envelope, type Envelope, type Origin, type Settlement } from '../../engine/envelope.ts';
import type { DeadLetterInput, DeadLetterWriter, Source, SourceHealth } from '../../engine/types.ts';
import {
  DEAD_LETTER_RETRY,
  retryDeadLetterUntil,
  writeDeadLetter,
  type DeadLetterFailurePolicy,
} from '../../engine/deadLetters.ts';
import { logger } from '../../obs/logger.ts';

/** One record parsed from a file: a value, or the error that made it unparseable. */
export type ParsedRecord<T> = (
  | { ok: true; value: T; key: string | null; line: number; raw: Buffer | null }
  | { ok: false; error: Error; key: string | null; line: number; raw: Buffer | null }
) & {
  /** The file it came from, when the source reads several (a folder). */
  path?: string;
};

/** Options shared by every file source. */
export interface FileSourceOptions {
  /** Most records emitted and not yet settled; reading pauses at this count (default 1000). */
  maxInFlight?: number;
  /** Where nacked and unparseable records go; without one they are logged as errors. */
  deadLetters?: DeadLetterWriter;
  /**
   * When a dead letter cannot be written after the bounded retries: `stop` (default) ends the
   * stream with the error; `block` reports not ready and retries every `deadLetterRetryMs` (reading
   * stops once the in-flight credits are held) until it is written or the source stops.
   */
  deadLetterOnFailure?: DeadLetterFailurePolicy;
  deadLetterRetryMs?: number;
  /**
   * Bytes read so far of the input's total size, updated as the reader reads (openSource sets it for
   * files; stdin has no known size): what `progress()` estimates from.
   */
  inputSize?: { read: number; total: number };
}

/** How far a file source is through its input, for the run's progress bar and ETA. */
export interface SourceProgress {
  /** Share done, 0..1 (1 once the source completed). */
  fraction: number;
  bytesRead: number;
  totalBytes: number;
}

/** Counts of a file source, for logs and tests. */
export interface FileSourceStats {
  emitted: number;
  acked: number;
  failed: number;
  peakInFlight: number;
}

/**
 * A Source over a parsed file: emits one envelope per record, at most `maxInFlight` unsettled at a
 * time (reading waits for credits, so memory stays bounded however large the file), nacks
 * unparseable records straight to the dead letters, and completes once every record has settled.
 */
export class FileSource<T> implements Source<T> {
  readonly stats: FileSourceStats = { emitted: 0, acked: 0, failed: 0, peakInFlight: 0 };
  private stopped = false;
  private inFlight = 0;
  private wake: (() => void) | null = null;
  /** Ends the open stream with an error (a dead letter that could not be written). */
  private fail: ((e: unknown) => void) | null = null;
  private readonly maxInFlight: number;
  /** Why the source is not ready: its stream failed, or dead letters are blocked. */
  private failure: string | null = null;
  private blockedRecords = 0;
  private blockedReason = '';
  /** Records read (emitted or unparseable) and settled (acked or nacked), for `progress()`. */
  private recordsRead = 0;
  private recordsSettled = 0;
  private completed = false;

  constructor(
    readonly id: string,
    /** Origin path reported in envelopes (`-` for stdin). */
    private readonly path: string,
    private readonly records: () => AsyncIterable<ParsedRecord<T>>,
    private readonly opts: FileSourceOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 1000;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new RangeError(`${id}: maxInFlight must be a positive integer, got ${opts.maxInFlight}`);
    }
  }

  /**
   * How far the source is, when its input size is known: records settled out of the records the input
   * is estimated to hold (those read so far, scaled by the bytes read of the total), so records read
   * ahead and still in flight do not count as done; undefined for an input of unknown size (stdin).
   */
  progress(): SourceProgress | undefined {
    const size = this.opts.inputSize;
    if (!size || !(size.total > 0)) return undefined;
    const read = Math.min(1, size.read / size.total);
    const fraction = this.completed
      ? 1
      : this.recordsRead === 0
        ? 0
        : Math.min(1, read * (this.recordsSettled / this.recordsRead));
    return { fraction, bytesRead: size.read, totalBytes: size.total };
  }

  /** Records currently emitted and not settled. */
  get currentInFlight(): number {
    return this.inFlight;
  }

  open(): Observable<Envelope<T>> {
    return new Observable<Envelope<T>>((sub) => {
      let cancelled = false;
      this.fail = (e) => sub.error(e);
      const iterable = this.records();
      const iterator = iterable[Symbol.asyncIterator]();
      const run = async (): Promise<void> => {
        let index = 0;
        while (!this.stopped && !cancelled) {
          while (this.inFlight >= this.maxInFlight && !cancelled) {
            await new Promise<void>((r) => (this.wake = r));
          }
          if (cancelled || this.stopped) break;
          const next = await iterator.next();
          if (next.done) break;
          const rec = next.value;
          const origin: Origin = {
            kind: 'file',
            path: rec.path ?? this.path,
            index: index++,
            line: rec.line,
          };
          this.take();
          this.recordsRead += 1;
          const ack = AckToken.root((s) => this.settled(s, rec, origin));
          if (!rec.ok) {
            ack.nack(rec.error, 'source', this.id);
            continue;
          }
          this.stats.emitted += 1;
          sub.next(envelope(rec.value, { key: rec.key, origin, ack }));
        }
        await iterator.return?.();
        while (this.inFlight > 0 && !cancelled) await new Promise<void>((r) => (this.wake = r));
        if (!cancelled) {
          this.completed = true;
          sub.complete();
        }
      };
      run().catch((e: unknown) => {
        // I/O failures (unreadable file, corrupt gzip) end the stream; the error names the source.
        const err = e instanceof Error ? e : new Error(String(e));
        sub.error(new Error(`${this.id}: reading ${this.path} failed: ${err.message}`, { cause: err }));
      });
      return () => {
        cancelled = true;
        this.signal();
      };
    });
  }

  /** Not ready once its stream failed or while a dead letter cannot be written (block policy). */
  health(): SourceHealth {
    if (this.failure) return { ready: false, reason: `${this.id}: ${this.failure}` };
    if (this.blockedRecords > 0)
      return {
        ready: false,
        reason: `${this.id}: ${this.blockedRecords} dead letter(s) cannot be written (${this.blockedReason}); retrying`,
      };
    return { ready: true };
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.signal();
    return Promise.resolve();
  }

  private take(): void {
    this.inFlight += 1;
    if (this.inFlight > this.stats.peakInFlight) this.stats.peakInFlight = this.inFlight;
  }

  private release(): void {
    this.inFlight -= 1;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private settled(s: Settlement, rec: ParsedRecord<T>, origin: Origin): void {
    this.recordsSettled += 1;
    if (s.failures.length === 0) {
      this.stats.acked += 1;
      this.release();
      return;
    }
    this.stats.failed += 1;
    // The credit is returned only once the dead letter is durable, like a Kafka offset; one that
    // cannot be written ends the stream (the engine's one dead-letter policy).
    const record: DeadLetterInput = { raw: rec.raw, key: rec.key, headers: {}, origin, failures: s.failures };
    void writeDeadLetter(this.opts.deadLetters, record, this.id).then(
      () => this.release(),
      (e: unknown) => this.deadLetterFailed(e, record),
    );
  }

  private deadLetterFailed(e: unknown, record: DeadLetterInput): void {
    const reason = e instanceof Error ? e.message : String(e);
    const writer = this.opts.deadLetters;
    if ((this.opts.deadLetterOnFailure ?? 'stop') === 'stop' || !writer || this.stopped) {
      this.failure ??= reason;
      this.release();
      this.fail?.(e);
      return;
    }
    if (this.blockedRecords++ === 0) {
      this.blockedReason = reason;
      logger.error(
        { source: this.id, err: e },
        'dead letters cannot be written: not ready (deadLetters.onFailure=block); retrying until they are',
      );
    }
    const every = this.opts.deadLetterRetryMs ?? DEAD_LETTER_RETRY.maxDelayMs;
    void retryDeadLetterUntil(writer, record, this.id, () => this.stopped, every).then((written) => {
      this.blockedRecords -= 1;
      this.release();
      // Stopped before it was written: the file source cannot hold an offset, so say so and fail.
      if (!written) this.fail?.(e);
    });
  }
}
