import type { Failure, Origin } from './envelope.ts';
import type { DeadLetterInput, DeadLetterWriter } from './types.ts';
import { metrics } from '../obs/metrics.ts';
import { logger } from '../obs/logger.ts';

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

/**
 * Writes a dead letter, retrying with capped backoff until it is durable: the source offset may only
 * advance after this resolves, so giving up would lose the record.
 */
export async function writeDeadLetter(
  writer: DeadLetterWriter | undefined,
  record: DeadLetterInput,
  sourceId: string,
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
  let delay = 100;
  for (;;) {
    try {
      await writer.write(record);
      return;
    } catch (e) {
      logger.warn({ source: sourceId, err: e }, 'dead-letter write failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
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
