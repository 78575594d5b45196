import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  addConfigOptions,
  ConfigError,
  kafkaClientConfig,
  kafkaConnection,
  loadConfig,
  printConfig,
  redactConfig,
} from '../../../src/cli/config.ts';
import type { Codec } from '../../../src/io/avro/codec.ts';
import { openSinkUri, openSourceUri } from '../../../src/io/wiring.ts';
import { tempDir } from '../../helpers/setup.ts';

const dir = tempDir('h7-config-');
function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills defaults when nothing is given', () => {
    const c = loadConfig({ env: {} });
    expect(c.kafka.brokers).toEqual(['localhost:9092']);
    expect(c.kafka.groupId).toBe('bioaug-stream');
    expect(c.metrics.port).toBe(9464);
    expect(c.log.level).toBe('info');
    expect(c.engine.maxInFlight).toBe(1000);
    expect(c.kafka.sasl).toBeUndefined();
  });

  it('applies flags over env over file over defaults, key by key', () => {
    const file = yamlFile(
      'prec.yaml',
      [
        'kafka:',
        '  brokers: [file-a:9092, file-b:9092]',
        '  clientId: from-file',
        '  groupId: from-file',
        'metrics:',
        '  port: 1111',
        'log:',
        '  level: warn',
        'engine:',
        '  maxInFlight: 8',
      ].join('\n'),
    );
    const env = { KAFKA_CLIENT_ID: 'from-env', KAFKA_GROUP_ID: 'from-env', METRICS_PORT: '2222' };
    const flags = { groupId: 'from-flag', metricsPort: '3333' };
    const c = loadConfig({ file, env, flags });
    expect(c.kafka.brokers).toEqual(['file-a:9092', 'file-b:9092']); // file only
    expect(c.kafka.clientId).toBe('from-env'); // env beats file
    expect(c.kafka.groupId).toBe('from-flag'); // flag beats env and file
    expect(c.metrics.port).toBe(3333);
    expect(c.log.level).toBe('warn'); // file beats default
    expect(c.engine.maxInFlight).toBe(8);
    expect(c.engine.maxMessageBytes).toBe(1_048_576); // default kept beside a file value in the same section

    expect(loadConfig({ file, env }).metrics.port).toBe(2222);
    expect(loadConfig({ file, env: {} }).metrics.port).toBe(1111);
  });

  it('reads the file named by --config or BIOSTREAM_CONFIG', () => {
    const file = yamlFile('named.yaml', 'kafka: { groupId: named }\n');
    expect(loadConfig({ env: {}, flags: { config: file } }).kafka.groupId).toBe('named');
    expect(loadConfig({ env: { BIOSTREAM_CONFIG: file } }).kafka.groupId).toBe('named');
  });

  it('coerces env strings: lists, booleans, integers', () => {
    const c = loadConfig({
      env: {
        KAFKA_BROKERS: ' k1:9092, k2:9093 ,',
        KAFKA_SSL: 'yes',
        BIOSTREAM_MAX_IN_FLIGHT: '64',
        BIOSTREAM_MAX_MESSAGE_BYTES: '2048',
      },
    });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(c.kafka.ssl).toBe(true);
    expect(c.engine.maxInFlight).toBe(64);
    expect(c.engine.maxMessageBytes).toBe(2048);
  });

  it('builds SASL from env pieces and --set overrides any key with typed values', () => {
    const file = yamlFile('sasl.yaml', 'kafka:\n  sasl:\n    mechanism: plain\n');
    const c = loadConfig({
      file,
      env: { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
      flags: {
        set: [
          'engine.maxInFlight=64',
          'kafka.fromBeginning=false',
          'topologies.augment={n: 3}',
          'topologies.ner-tagging.ner.providers=[cuda, cpu]',
        ],
      },
    });
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.engine.maxInFlight).toBe(64);
    expect(c.kafka.fromBeginning).toBe(false);
    expect(c.topologies).toEqual({
      augment: { n: 3 },
      'ner-tagging': { ner: { providers: ['cuda', 'cpu'] } },
    });
    const k = kafkaClientConfig(c);
    expect(k.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(k.brokers).toEqual(['localhost:9092']);
    expect(kafkaConnection(c)).toMatchObject({ brokers: ['localhost:9092'], ssl: false, sasl: c.kafka.sasl });
  });

  it('tunes the producer and consumer of Kafka sinks and sources, and the wiring passes them on', () => {
    const c = loadConfig({
      env: { KAFKA_COMPRESSION: 'gzip', KAFKA_BATCH_SIZE: '2000' },
      flags: { set: ['kafka.producer.traceHeader=false', 'kafka.consumer.partitionsConsumedConcurrently=4'] },
    });
    expect(c.kafka.producer).toEqual({
      batchSize: 2000,
      lingerMs: 5,
      compression: 'gzip',
      maxConcurrentSends: 4,
      traceHeader: false,
      maxRetries: 12,
    });
    expect(c.kafka.consumer.partitionsConsumedConcurrently).toBe(4);
    const e = errorOf(() => loadConfig({ env: { KAFKA_COMPRESSION: 'zstd' } }));
    expect(e.message).toContain('kafka.producer.compression = "zstd" (from env KAFKA_COMPRESSION)');
    const wiring = {
      connection: kafkaConnection(c),
      groupId: 'g',
      fromBeginning: true,
      maxInFlight: 10,
      maxMessageBytes: 100,
      codec: {} as Codec,
      producer: c.kafka.producer,
      consumer: c.kafka.consumer,
    };
    const sink = openSinkUri('kafka:out?schema=Sentence', wiring) as unknown as {
      opts: Record<string, unknown>;
    };
    expect(sink.opts).toMatchObject({ batchSize: 2000, compression: 'gzip', traceHeader: false });
    const src = openSourceUri('kafka:in', wiring) as unknown as { opts: Record<string, unknown> };
    expect(src.opts).toMatchObject({ partitionsConsumedConcurrently: 4, commitIntervalMs: 200 });
  });

  it('names the key, its source and the valid options for an invalid enum', () => {
    const e = errorOf(() => loadConfig({ env: { LOG_LEVEL: 'loud' } }));
    expect(e.message).toContain('log.level = "loud" (from env LOG_LEVEL)');
    expect(e.message).toContain('expected one of fatal, error, warn, info, debug, trace, silent');
    expect(e.retriable).toBe(false);

    const e2 = errorOf(() => loadConfig({ env: {}, flags: { saslMechanism: 'kerberos' } }));
    expect(e2.message).toContain('kafka.sasl.mechanism = "kerberos" (from flag --sasl-mechanism)');
    expect(e2.message).toContain('plain, scram-sha-256, scram-sha-512');
  });

  it('reports unknown file keys with a suggestion and the valid keys of the section', () => {
    const file = yamlFile('typo.yaml', 'kafka:\n  brokerz: [a:1]\n');
    const e = errorOf(() => loadConfig({ file, env: {} }));
    expect(e.message).toContain(
      `kafka.brokerz (from file ${file}): unknown key, did you mean kafka.brokers?`,
    );
    expect(e.message).toContain('valid keys under kafka: brokers, clientId, groupId');
  });

  it('reports a partial SASL block as the missing keys', () => {
    const e = errorOf(() => loadConfig({ env: { KAFKA_SASL_MECHANISM: 'plain' } }));
    expect(e.problems.some((p) => p.startsWith('kafka.sasl.username = missing'))).toBe(true);
    expect(e.problems.some((p) => p.startsWith('kafka.sasl.password = missing'))).toBe(true);
  });

  it('rejects bad numbers, booleans and broker addresses with their origin', () => {
    expect(errorOf(() => loadConfig({ env: { METRICS_PORT: 'abc' } })).message).toContain(
      'metrics.port = "abc" (from env METRICS_PORT): expected an integer',
    );
    expect(errorOf(() => loadConfig({ env: { METRICS_PORT: '70000' } })).message).toContain(
      'metrics.port = 70000 (from env METRICS_PORT)',
    );
    expect(errorOf(() => loadConfig({ env: { KAFKA_SSL: 'maybe' } })).message).toContain(
      'expected one of true, false, 1, 0, yes, no',
    );
    expect(errorOf(() => loadConfig({ env: {}, flags: { brokers: 'nohost' } })).message).toContain(
      'kafka.brokers.0 = "nohost" (from flag --brokers): expected host:port',
    );
    expect(errorOf(() => loadConfig({ env: {}, flags: { set: ['nokey'] } })).message).toContain(
      'expected key.path=value',
    );
  });

  it('reports YAML syntax errors with the line', () => {
    const file = yamlFile('broken.yaml', 'kafka:\n  brokers: [a:1\nlog: {\n');
    const e = errorOf(() => loadConfig({ file, env: {} }));
    expect(e.message).toMatch(new RegExp(`config file ${file.replace(/[.]/g, '\\.')} line \\d+`));
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).message).toContain(
      'cannot read',
    );
    const list = yamlFile('list.yaml', '- a\n- b\n');
    expect(errorOf(() => loadConfig({ file: list, env: {} })).message).toContain('must be a mapping');
  });

  it('redacts secrets in printConfig and never leaks them in errors', () => {
    const c = loadConfig({
      env: {
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'alice',
        KAFKA_SASL_PASSWORD: 's3cr3t-kafka',
        SCHEMA_REGISTRY_URL: 'https://bob:s3cr3t-url@registry.example:8081',
        SCHEMA_REGISTRY_PASSWORD: 's3cr3t-sr',
      },
    });
    const text = printConfig(c);
    expect(text).not.toMatch(/s3cr3t/);
    const printed = parse(text);
    expect(printed.kafka.sasl).toEqual({ mechanism: 'plain', username: 'alice', password: '***' });
    expect(printed.schemaRegistry.url).toBe('https://***@registry.example:8081');
    expect(printed.schemaRegistry.password).toBe('***');
    expect(printed.engine.maxInFlight).toBe(1000);
    // The original object keeps its values: only the copy is redacted.
    expect(c.kafka.sasl?.password).toBe('s3cr3t-kafka');
    expect(redactConfig(c).kafka.sasl?.password).toBe('***');

    const file = yamlFile('bad-secret.yaml', 'schemaRegistry:\n  password: 12345\n');
    const e = errorOf(() => loadConfig({ file, env: {} }));
    expect(e.message).toContain('schemaRegistry.password = "***"');
    expect(e.message).not.toContain('12345');
  });

  it('registers its options on a commander command and loads what they parse', () => {
    const cmd = addConfigOptions(new Command('x').exitOverride());
    cmd.parse(
      [
        '--brokers',
        'b1:9092,b2:9092',
        '--group-id',
        'g',
        '--set',
        'engine.maxInFlight=4',
        '--set',
        'log.level=debug',
      ],
      { from: 'user' },
    );
    const c = loadConfig({ env: { KAFKA_GROUP_ID: 'env' }, flags: cmd.opts() });
    expect(c.kafka.brokers).toEqual(['b1:9092', 'b2:9092']);
    expect(c.kafka.groupId).toBe('g');
    expect(c.engine.maxInFlight).toBe(4);
    expect(c.log.level).toBe('debug');
  });
});
