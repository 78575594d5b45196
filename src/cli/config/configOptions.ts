/**
 * Where a setting can come from besides the YAML file: the environment variables and the command-line
 * flags, each mapped to a config key, and how their strings become values.
 */
import type { Command } from 'commander';
import { logLevels, saslMechanisms } from './choices.ts';

export type Kind = 'string' | 'list' | 'int' | 'bool';

/** Environment variables read by loadConfig, with the config key each one sets. */
export const ENV_VARS: Record<string, { key: string; kind: Kind }> = {
  KAFKA_BROKERS: { key: 'kafka.brokers', kind: 'list' },
  KAFKA_CLIENT_ID: { key: 'kafka.clientId', kind: 'string' },
  KAFKA_GROUP_ID: { key: 'kafka.groupId', kind: 'string' },
  KAFKA_FROM_BEGINNING: { key: 'kafka.fromBeginning', kind: 'bool' },
  KAFKA_SSL: { key: 'kafka.ssl', kind: 'bool' },
  KAFKA_SSL_CA_FILE: { key: 'kafka.sslCaFile', kind: 'string' },
  KAFKA_SSL_CERT_FILE: { key: 'kafka.sslCertFile', kind: 'string' },
  KAFKA_SSL_KEY_FILE: { key: 'kafka.sslKeyFile', kind: 'string' },
  KAFKA_SSL_KEY_PASSWORD: { key: 'kafka.sslKeyPassword', kind: 'string' },
  KAFKA_SASL_MECHANISM: { key: 'kafka.sasl.mechanism', kind: 'string' },
  KAFKA_SASL_USERNAME: { key: 'kafka.sasl.username', kind: 'string' },
  KAFKA_SASL_PASSWORD: { key: 'kafka.sasl.password', kind: 'string' },
  KAFKA_COMPRESSION: { key: 'kafka.producer.compression', kind: 'string' },
  KAFKA_BATCH_SIZE: { key: 'kafka.producer.batchSize', kind: 'int' },
  SCHEMA_REGISTRY_URL: { key: 'schemaRegistry.url', kind: 'string' },
  SCHEMA_REGISTRY_USERNAME: { key: 'schemaRegistry.username', kind: 'string' },
  SCHEMA_REGISTRY_PASSWORD: { key: 'schemaRegistry.password', kind: 'string' },
  METRICS_PORT: { key: 'metrics.port', kind: 'int' },
  METRICS_HOST: { key: 'metrics.host', kind: 'string' },
  LOG_LEVEL: { key: 'log.level', kind: 'string' },
  BIOSTREAM_DATA: { key: 'data.root', kind: 'string' },
  BIOSTREAM_MAX_IN_FLIGHT: { key: 'engine.maxInFlight', kind: 'int' },
  BIOSTREAM_MAX_MESSAGE_BYTES: { key: 'engine.maxMessageBytes', kind: 'int' },
  BIOSTREAM_SHUTDOWN_TIMEOUT_MS: { key: 'engine.shutdownTimeoutMs', kind: 'int' },
  BIOSTREAM_DEAD_LETTERS_ON_FAILURE: { key: 'deadLetters.onFailure', kind: 'string' },
};

/** Command-line options added by addConfigOptions: commander attribute name -> flag, config key. */
export const FLAG_OPTIONS: Record<string, { flag: string; key: string; kind: Kind; help: string }> = {
  brokers: {
    flag: '--brokers <list>',
    key: 'kafka.brokers',
    kind: 'list',
    help: 'Kafka brokers, host:port,...',
  },
  clientId: { flag: '--client-id <id>', key: 'kafka.clientId', kind: 'string', help: 'Kafka client id' },
  groupId: { flag: '--group-id <id>', key: 'kafka.groupId', kind: 'string', help: 'consumer group id' },
  ssl: { flag: '--ssl', key: 'kafka.ssl', kind: 'bool', help: 'connect to Kafka over TLS' },
  saslMechanism: {
    flag: '--sasl-mechanism <name>',
    key: 'kafka.sasl.mechanism',
    kind: 'string',
    help: `SASL mechanism (${saslMechanisms.join(', ')}); credentials come from env`,
  },
  schemaRegistry: {
    flag: '--schema-registry <url>',
    key: 'schemaRegistry.url',
    kind: 'string',
    help: 'Confluent Schema Registry URL',
  },
  metricsPort: {
    flag: '--metrics-port <port>',
    key: 'metrics.port',
    kind: 'int',
    help: 'port of /metrics, /healthz, /readyz',
  },
  logLevel: { flag: '--log-level <level>', key: 'log.level', kind: 'string', help: logLevels.join(', ') },
  data: { flag: '--data <dir>', key: 'data.root', kind: 'string', help: 'shared corpora folder' },
  maxInFlight: {
    flag: '--max-in-flight <n>',
    key: 'engine.maxInFlight',
    kind: 'int',
    help: 'unacked records before the source pauses',
  },
};

/** The value of an env variable or flag string as the key's kind; a bad value is added to problems. */
export function coerce(raw: string, kind: Kind, key: string, origin: string, problems: string[]): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'string':
      return text;
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'int': {
      if (!/^-?\d+$/.test(text)) {
        problems.push(`${key} = ${JSON.stringify(raw)} (from ${origin}): expected an integer`);
        return undefined;
      }
      return Number(text);
    }
    case 'bool': {
      const t = text.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      problems.push(
        `${key} = ${JSON.stringify(raw)} (from ${origin}): expected one of true, false, 1, 0, yes, no`,
      );
      return undefined;
    }
  }
}

/** Adds --config, the FLAG_OPTIONS flags, --set key=value (repeatable) and --print-config to a command. */
export function addConfigOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'YAML config file (env BIOSTREAM_CONFIG)');
  for (const { flag, help } of Object.values(FLAG_OPTIONS)) cmd.option(flag, help);
  cmd.option(
    '--set <key=value>',
    'set any config key, e.g. topologies.ingest.ner.maxBatch=64 (repeatable)',
    (v: string, prev: string[] = []) => [...prev, v],
  );
  cmd.option('--print-config', 'print the effective config (secrets redacted) and exit');
  return cmd;
}
