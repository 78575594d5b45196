import type { Kafka } from 'kafkajs';
import type { DeadLetterInput, DeadLetterWriter } from '../../engine/types.ts';
import { deadLetterHeaders } from '../../engine/deadLetters.ts';
import { KafkaSink } from './kafkaSink.ts';
import type { KafkaConnection } from './client.ts';

/**
 * Dead-letter topic writer: value = the raw bytes, headers = the original ones plus `dlq.*`
 * (stage, step, error class and message, origin topic/partition/offset). Resolves once acked.
 */
export class KafkaDeadLetters implements DeadLetterWriter {
  private readonly sink: KafkaSink<Buffer | null>;

  constructor(config: KafkaConnection & { topic: string; kafka?: Kafka; maxRetries?: number }) {
    const { topic, kafka, maxRetries, ...conn } = config;
    this.sink = new KafkaSink<Buffer | null>({
      ...conn,
      ...(kafka ? { kafka } : {}),
      topic,
      id: `dlq:${topic}`,
      maxRetries: maxRetries ?? 12,
      encode: (v) => v,
    });
  }

  async write(record: DeadLetterInput): Promise<void> {
    await this.sink.send([
      {
        key: record.key,
        // A tombstone stays a tombstone (null, not empty bytes), so re-injecting it recreates it.
        value: record.raw,
        headers: { ...record.headers, ...deadLetterHeaders(record.failures, record.origin) },
      },
    ]);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
