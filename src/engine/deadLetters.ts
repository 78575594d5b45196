import type { Failure, Origin } from './envelope.ts';
import type { DeadLetterInput, DeadLetterWriter } from './types.ts';
import { metrics } from '../obs/metrics.ts';
import { logger } from '../obs/logger.ts';
import { StreamError } from './errors.ts';

/** Header names carried by every dead letter (Kafka headers or file fields). */
export const DLQ_HEADERS = {
  stage: 'dlq.stage',
  step: 'dlq.step',
  errorClass: 'dlq.error.class',
  errorMessage: 'dlq.error.message',
  originTopic: 'dlq.origin.topic',
  originPartition: 'dlq.origin.partition',
  originOffset: 'dlq.origin.offset',
} as const;

/** The dead-letter headers describing the first failure and the origin of a record. */
export function deadLetterHeaders(failures: Failure[], origin: Origin): Record<string, string> {
  const f = failures[0];
  const h: Record<string, string> = {
    [DLQ_HEADERS.stage]: f?.stage ?? 'unknown',
    [DLQ_HEADERS.step]: f?.stepId ?? 'unknown',
    [DLQ_HEADERS.errorClass]: f?.error.name ?? 'Error',
    // Headers are bounded: a huge message from a parser must not blow up the DLQ record.
    [DLQ_HEADERS.errorMessage]: (f?.error.message ?? '').slice(0, 2000),
  };
  if (origin.kind === 'kafka') {
    h[DLQ_HEADERS.originTopic] = origin.topic;
    h[DLQ_HEADERS.originPartition] = String(origin.partition);
    h[DLQ_HEADERS.originOffset] = origin.offset;
  } else if (origin.kind === 'file') {
    h[DLQ_HEADERS.originTopic] = `file:${origin.path}`;
    h[DLQ_HEADERS.originPartition] = '0';
    h[DLQ_HEADERS.originOffset] = String(origin.line ?? origin.index);
  } else {
    h[DLQ_HEADERS.originTopic] = `memory:${origin.source}`;
    h[DLQ_HEADERS.originPartition] = '0';
    h[DLQ_HEADERS.originOffset] = String(origin.index);
  }
  if (failures.length > 1) h['dlq.failures'] = String(failures.length);
  return h;
}

/** How hard `writeDeadLetter` tries before it gives up with a DeadLetterWriteError. */
export interface DeadLetterRetryPolicy {
  /** Attempts in all, the first included (default 10). */
  maxAttempts: number;
  /** Wait before the second attempt; doubled after each failure (default 100 ms). */
  initialDelayMs: number;
  /** Longest wait between attempts (default 5 s). */
  maxDelayMs: number;
}

/** The one dead-letter retry policy of every source (Kafka, files, memory). */
export const DEAD_LETTER_RETRY: DeadLetterRetryPolicy = {
  maxAttempts: 10,
  initialDelayMs: 100,
  maxDelayMs: 5000,
};

/**
 * A dead letter that could not be written: fatal for the source. The source ends its stream with
 * it instead of advancing past the record, so the record is replayed after a restart rather than
 * lost, and a partition is never blocked forever by a dead-letter topic that refuses it.
 */
export class DeadLetterWriteError extends StreamError {
  constructor(
    readonly source: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${source}: dead letter not written after ${attempts} attempt(s): ${why}`, {
      stage: 'dead-letter',
      step: source,
      hint: 'check the dead-letter target (--dead-letters: topic exists, writable, message size limit, disk space); the record was not acknowledged and will be read again',
      cause,
    });
  }
}

/**
 * Writes a dead letter with bounded retries and capped exponential backoff. An error that says it
 * is not retriable (`retriable: false`, e.g. MESSAGE_TOO_LARGE or an authorization failure from the
 * Kafka sink) is not retried. When the attempts are spent it logs one error and rejects with a
 * DeadLetterWriteError: the caller must then fail its stream and must not acknowledge the record.
 */
export async function writeDeadLetter(
  writer: DeadLetterWriter | undefined,
  record: DeadLetterInput,
  sourceId: string,
  policy: DeadLetterRetryPolicy = DEAD_LETTER_RETRY,
): Promise<void> {
  for (const f of record.failures) metrics.deadLetters.labels(f.stage, f.stepId).inc();
  if (!writer) {
    // No writer configured: the record is not silently dropped, it is logged with its context.
    logger.error(
      { source: sourceId, origin: record.origin, failures: record.failures.map(describe) },
      'dead letter (no dead-letter writer configured)',
    );
    return;
  }
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await writer.write(record);
      return;
    } catch (e) {
      const fatal = (e as { retriable?: unknown } | null)?.retriable === false;
      if (fatal || attempt >= policy.maxAttempts) {
        const err = new DeadLetterWriteError(sourceId, attempt, e);
        logger.error({ source: sourceId, origin: record.origin, err: e }, err.message);
        throw err;
      }
      logger.warn({ source: sourceId, err: e, attempt }, 'dead-letter write failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}

/**
 * What a source does when a dead letter cannot be written after the bounded retries: `stop` ends
 * its stream with the DeadLetterWriteError (the process exits non-zero and an orchestrator restarts
 * it); `block` holds the record's partition (not ready on /readyz) and retries until the write
 * succeeds or the source stops. Either way the record's offset is never committed past.
 */
export const DEAD_LETTER_FAILURE_POLICIES = ['stop', 'block'] as const;
/** One of DEAD_LETTER_FAILURE_POLICIES. */
export type DeadLetterFailurePolicy = (typeof DEAD_LETTER_FAILURE_POLICIES)[number];

/**
 * The `block` policy's loop: retries a dead letter every `everyMs` until it is written (true) or
 * `cancelled()` turns true (false). Logs each failure at debug only: the caller logged the error
 * that started the block, once.
 */
export async function retryDeadLetterUntil(
  writer: DeadLetterWriter,
  record: DeadLetterInput,
  sourceId: string,
  cancelled: () => boolean,
  everyMs: number = DEAD_LETTER_RETRY.maxDelayMs,
): Promise<boolean> {
  while (!cancelled()) {
    await new Promise((r) => setTimeout(r, everyMs));
    if (cancelled()) return false;
    try {
      await writer.write(record);
      logger.info({ source: sourceId, origin: record.origin }, 'blocked dead letter written: resuming');
      return true;
    } catch (e) {
      logger.debug({ source: sourceId, err: e }, 'blocked dead letter still not written');
    }
  }
  return false;
}

function describe(f: Failure): { stage: string; step: string; error: string } {
  return { stage: f.stage, step: f.stepId, error: `${f.error.name}: ${f.error.message}` };
}

/** Dead letters kept in memory (tests, embedded runs). */
export class MemoryDeadLetters implements DeadLetterWriter {
  readonly records: Array<DeadLetterInput & { dlqHeaders: Record<string, string> }> = [];
  write(record: DeadLetterInput): Promise<void> {
    this.records.push({ ...record, dlqHeaders: deadLetterHeaders(record.failures, record.origin) });
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A dead-letter writer that also counts what it wrote, by failing stage (run summaries, exit codes). */
export class CountingDeadLetters implements DeadLetterWriter {
  count = 0;
  readonly byStage = new Map<string, number>();
  constructor(private readonly inner: DeadLetterWriter) {}
  async write(record: DeadLetterInput): Promise<void> {
    await this.inner.write(record);
    this.count += 1;
    const stage = record.failures[0]?.stage ?? 'unknown';
    this.byStage.set(stage, (this.byStage.get(stage) ?? 0) + 1);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
