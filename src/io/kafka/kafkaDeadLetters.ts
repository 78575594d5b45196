import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { DeadLetterInput, DeadLetterWriter } from '../../engine/types.ts';
import { deadLetterHeaders } from '../../engine/deadLetters.ts';
import { stepLogger } from '../../obs/logger.ts';
import { KafkaSink } from './kafkaSink.ts';
import type { KafkaConnection } from './client.ts';

/** Headers of a dead letter whose payload was cut to fit the dead-letter topic. */
export const TRUNCATION_HEADERS = {
  truncated: 'dlq.payload.truncated',
  originalSize: 'dlq.payload.original.size',
  sha256: 'dlq.payload.sha256',
} as const;

/** Default largest payload a dead letter carries (bytes): half of Kafka's default 1 MB message limit. */
export const DEFAULT_DLQ_MAX_PAYLOAD_BYTES = 524_288;
/** Most payload kept (at most half of it) when the topic refuses a dead letter under our limit as too large. */
const FALLBACK_PAYLOAD_BYTES = 16_384;

/** Options of a dead-letter topic writer. */
export interface KafkaDeadLettersConfig extends KafkaConnection {
  topic: string;
  kafka?: Kafka;
  maxRetries?: number;
  /** Largest payload written as is; a larger one is truncated to this size, with headers saying so. */
  maxPayloadBytes?: number;
}

function isTooLarge(e: unknown): boolean {
  const cause = (e as { cause?: { type?: unknown } } | null)?.cause;
  return cause?.type === 'MESSAGE_TOO_LARGE' || cause?.type === 'RECORD_LIST_TOO_LARGE';
}

/**
 * Dead-letter topic writer: value = the raw bytes, headers = the original ones plus `dlq.*`
 * (stage, step, error class and message, origin topic/partition/offset). Resolves once acked.
 * A payload over `maxPayloadBytes`, or one the topic refuses as too large, is truncated and the
 * headers give its original size and SHA-256, so the record is still set aside (and can be found
 * again at its origin offset) instead of blocking the partition.
 */
export class KafkaDeadLetters implements DeadLetterWriter {
  private readonly sink: KafkaSink<Buffer | null>;
  private readonly maxPayloadBytes: number;
  private readonly log;

  constructor(config: KafkaDeadLettersConfig) {
    const { topic, kafka, maxRetries, maxPayloadBytes, ...conn } = config;
    this.maxPayloadBytes = maxPayloadBytes ?? DEFAULT_DLQ_MAX_PAYLOAD_BYTES;
    this.sink = new KafkaSink<Buffer | null>({
      ...conn,
      ...(kafka ? { kafka } : {}),
      topic,
      id: `dlq:${topic}`,
      maxRetries: maxRetries ?? 12,
      encode: (v) => v,
    });
    this.log = stepLogger(`dlq:${topic}`);
  }

  async write(record: DeadLetterInput): Promise<void> {
    const headers = { ...record.headers, ...deadLetterHeaders(record.failures, record.origin) };
    // A tombstone stays a tombstone (null, not empty bytes), so re-injecting it recreates it.
    const raw = record.raw;
    if (raw === null || raw.length <= this.maxPayloadBytes) {
      try {
        return await this.sink.send([{ key: record.key, value: raw, headers }]);
      } catch (e) {
        if (raw === null || !isTooLarge(e)) throw e;
        // The topic's own limit is below ours: set the record aside truncated rather than not at all.
        const keep = Math.min(FALLBACK_PAYLOAD_BYTES, Math.floor(raw.length / 2));
        return this.sendTruncated(record, raw, headers, keep);
      }
    }
    return this.sendTruncated(record, raw, headers, this.maxPayloadBytes);
  }

  private async sendTruncated(
    record: DeadLetterInput,
    raw: Buffer,
    headers: Record<string, string>,
    keep: number,
  ): Promise<void> {
    const sha256 = createHash('sha256').update(raw).digest('hex');
    this.log.warn(
      { origin: record.origin, size: raw.length, kept: keep, sha256 },
      'dead letter payload truncated to fit the dead-letter topic',
    );
    await this.sink.send([
      {
        key: record.key,
        value: raw.subarray(0, keep),
        headers: {
          ...headers,
          [TRUNCATION_HEADERS.truncated]: 'true',
          [TRUNCATION_HEADERS.originalSize]: String(raw.length),
          [TRUNCATION_HEADERS.sha256]: sha256,
        },
      },
    ]);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
