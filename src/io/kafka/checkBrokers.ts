// A quick reachability check before a command starts its Kafka clients: kafkajs' own retries take
// ~17 s to give up on a broker that is not there, and then fail deep inside a consumer.
import { Kafka, logLevel } from 'kafkajs';
import { StreamError } from '../../engine/errors.ts';
import type { KafkaConnection } from './client.ts';

/** No broker of the list answered the metadata request. */
export class BrokersUnreachableError extends StreamError {
  constructor(brokers: string[], cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`no Kafka broker answered at ${brokers.join(', ')} (${why})`, {
      stage: 'source',
      retriable: true,
      hint:
        'start a local development broker with `bioaug-stream broker` (in memory, not durable), ' +
        'or point --brokers / KAFKA_BROKERS at your cluster; without Kafka, run on files (--source pubtator:<path>)',
      cause,
    });
  }
}

/** Resolves when one broker of the list answers a metadata request within `timeoutMs`, else rejects with BrokersUnreachableError. */
export async function checkBrokers(conn: KafkaConnection, timeoutMs = 5000): Promise<void> {
  const kafka = new Kafka({
    brokers: conn.brokers,
    clientId: `${conn.clientId ?? 'bioaug-stream'}-check`,
    connectionTimeout: Math.min(conn.connectionTimeoutMs ?? 3000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
    ...(conn.ssl !== undefined ? { ssl: conn.ssl } : {}),
    ...(conn.sasl !== undefined ? { sasl: conn.sasl } : {}),
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new BrokersUnreachableError(conn.brokers, e);
  } finally {
    if (timer) clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
