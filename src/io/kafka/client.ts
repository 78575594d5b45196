// The one place kafkajs clients are created: logs go through pino, SASL/SSL pass through untouched.
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { logger } from '../../obs/logger.ts';

/** Connection settings shared by Kafka sources, sinks, dead-letter writers and admin. */
export interface KafkaConnection {
  brokers: string[];
  clientId?: string;
  ssl?: boolean | ConnectionOptions;
  sasl?: SASLOptions;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Creates a kafkajs client whose log lines go to the pino logger. */
export function createKafka(conn: KafkaConnection): Kafka {
  if (conn.brokers.length === 0)
    throw new Error('createKafka: no brokers given (set --brokers or KAFKA_BROKERS)');
  const config: KafkaConfig = {
    brokers: conn.brokers,
    clientId: conn.clientId ?? 'bioaug-stream',
    connectionTimeout: conn.connectionTimeoutMs ?? 3000,
    requestTimeout: conn.requestTimeoutMs ?? 30000,
    // kafkajs retries internally too; our own loops on top decide when to give up.
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: process.env.KAFKAJS_LOG_LEVEL === 'debug' ? logLevel.DEBUG : logLevel.WARN,
    logCreator: () => (entry) => {
      const lvl = levels[entry.level] ?? 'info';
      const { message, ...rest } = entry.log;
      logger[lvl]({ kafka: entry.namespace, ...rest }, message);
    },
  };
  if (conn.ssl !== undefined) config.ssl = conn.ssl;
  if (conn.sasl !== undefined) config.sasl = conn.sasl;
  return new Kafka(config);
}

/** Parses a comma-separated broker list (e.g. KAFKA_BROKERS). */
export function parseBrokers(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** Kafka record headers (Buffer or string values) as plain strings. */
export function headersToStrings(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  // for-in over own keys: no entries array per record (most records carry no headers at all).
  for (const k in h) {
    if (!Object.prototype.hasOwnProperty.call(h, k)) continue;
    const v = h[k];
    if (v === undefined || v === null) continue;
    const first: unknown = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}
