/** Kafka and schema-registry client settings derived from the config (TLS files read here). */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ConfigError } from './configError.ts';
import type { Config } from './schema.ts';

/**
 * The Kafka TLS setting from the config: false/true, or node TLS options when a CA file or a client
 * certificate is given (either implies TLS). Certificate and key come together or not at all.
 */
export function tlsOptions(config: Config): boolean | ConnectionOptions {
  const k = config.kafka;
  if ((k.sslCertFile === undefined) !== (k.sslKeyFile === undefined))
    throw new ConfigError(
      'kafka.sslCertFile and kafka.sslKeyFile go together (KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE): mutual TLS needs the certificate and its key',
    );
  if (k.sslKeyPassword !== undefined && k.sslKeyFile === undefined)
    throw new ConfigError('kafka.sslKeyPassword is set but kafka.sslKeyFile is not');
  if (!k.sslCaFile && !k.sslCertFile) return k.ssl;
  const read = (key: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`${key} = ${file}: cannot read (${(e as Error).message})`);
    }
  };
  const tls: ConnectionOptions = {};
  if (k.sslCaFile) tls.ca = [read('kafka.sslCaFile', k.sslCaFile)];
  if (k.sslCertFile && k.sslKeyFile) {
    tls.cert = read('kafka.sslCertFile', k.sslCertFile);
    tls.key = read('kafka.sslKeyFile', k.sslKeyFile);
    if (k.sslKeyPassword !== undefined) tls.passphrase = k.sslKeyPassword;
  }
  return tls;
}

/** kafkajs client options (brokers, client id, TLS, SASL, timeouts) derived from the config. */
export function kafkaClientConfig(config: Config): KafkaConfig {
  const k = config.kafka;
  const ssl: KafkaConfig['ssl'] = tlsOptions(config);
  return {
    brokers: k.brokers,
    clientId: k.clientId,
    ssl,
    sasl: k.sasl ? (k.sasl as SASLOptions) : undefined,
    connectionTimeout: k.connectionTimeoutMs,
    requestTimeout: k.requestTimeoutMs,
  };
}

/** Structurally the KafkaConnection of src/io/kafka/client.ts (kept local so config has no io dependency). */
export type KafkaConnectionSettings = {
  brokers: string[];
  clientId: string;
  ssl: boolean | ConnectionOptions;
  sasl?: SASLOptions;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
};

/** Connection settings for createKafka() (src/io/kafka/client.ts) derived from the config. */
export function kafkaConnection(config: Config): KafkaConnectionSettings {
  const k = config.kafka;
  return {
    brokers: k.brokers,
    clientId: k.clientId,
    ssl: tlsOptions(config),
    ...(k.sasl ? { sasl: k.sasl as SASLOptions } : {}),
    connectionTimeoutMs: k.connectionTimeoutMs,
    requestTimeoutMs: k.requestTimeoutMs,
  };
}

/**
 * The codec's registry options (URL and basic credentials) derived from the config; {} without a
 * registry. Credentials come from schemaRegistry.username/password, else from user:password in the URL.
 */
export function registryOptions(config: Config): {
  registryUrl?: string;
  registryAuth?: { username: string; password: string };
} {
  const r = config.schemaRegistry;
  if (!r.url) return {};
  if ((r.username === undefined) !== (r.password === undefined))
    throw new ConfigError(
      'schemaRegistry.username and schemaRegistry.password go together: set both (SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD) or neither',
    );
  return r.username !== undefined && r.password !== undefined
    ? { registryUrl: r.url, registryAuth: { username: r.username, password: r.password } }
    : { registryUrl: r.url };
}
