/**
 * Effective configuration of a bioaug-stream process.
 *
 * API (used by the CLI commands):
 *   loadConfig({ file?, env?, flags? }): Config         precedence flags > env > file > defaults; throws ConfigError
 *   addConfigOptions(cmd: Command): Command             registers --config, --brokers, ..., --set, --print-config
 *   printConfig(config): string                         YAML of the effective config, secrets redacted
 *   redactConfig(config): Config                        the same object with secrets replaced by '***'
 *   kafkaConnection(config): KafkaConnectionSettings    options for createKafka() in src/io/kafka/client.ts
 *   kafkaClientConfig(config): KafkaConfig              raw kafkajs client options (brokers, ssl, sasl) from the config
 *   applyProcessConfig(config): void                    exports data.root as BIOSTREAM_DATA and sets the log level
 *   ENV_VARS / FLAG_OPTIONS                              the tables mapping env names and flags to config keys
 */
import { StreamError } from '../engine/errors.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Command } from 'commander';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { logger } from '../obs/logger.ts';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

// prefault (not default) so the nested defaults are applied when a whole section is missing.
const kafkaSchema = z
  .strictObject({
    brokers: z
      .array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port'))
      .min(1)
      .default(['localhost:9092']),
    clientId: z.string().min(1).default('bioaug-stream'),
    groupId: z.string().min(1).default('bioaug-stream'),
    fromBeginning: z.boolean().default(true),
    ssl: z.boolean().default(false),
    sslCaFile: z.string().min(1).optional(),
    // Mutual TLS: the client certificate and its key (PEM files), and the key's passphrase if it has one.
    sslCertFile: z.string().min(1).optional(),
    sslKeyFile: z.string().min(1).optional(),
    sslKeyPassword: z.string().min(1).optional(),
    sasl: z
      .strictObject({
        mechanism: z.enum(saslMechanisms),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    connectionTimeoutMs: z.number().int().positive().default(10_000),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    // Sink tuning (src/io/kafka/kafkaSink.ts): records per produce request, linger, compression, sends on the
    // wire at once, the per-record trace-id header (costs throughput: docs/results/benchmarks.md), retries.
    producer: z
      .strictObject({
        batchSize: z.number().int().positive().default(500),
        lingerMs: z.number().int().nonnegative().default(5),
        compression: z.enum(['none', 'gzip']).default('none'),
        maxConcurrentSends: z.number().int().positive().default(4),
        traceHeader: z.boolean().default(true),
        maxRetries: z.number().int().nonnegative().default(12),
      })
      .prefault({}),
    // Source tuning (src/io/kafka/kafkaSource.ts).
    consumer: z
      .strictObject({
        sessionTimeoutMs: z.number().int().positive().default(10_000),
        heartbeatIntervalMs: z.number().int().positive().default(1000),
        commitIntervalMs: z.number().int().positive().default(200),
        partitionsConsumedConcurrently: z.number().int().positive().default(1),
        maxBytesPerPartition: z.number().int().positive().default(1_048_576),
      })
      .prefault({}),
  })
  .prefault({});

const configSchema = z.strictObject({
  kafka: kafkaSchema,
  schemaRegistry: z
    .strictObject({
      url: z.url().optional(),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      // Loopback by default: /metrics and /readyz have no authentication. Containers set 0.0.0.0 (deploy/).
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(9464),
      // /healthz fails when the event loop stalled longer than this within the last window.
      blockedThresholdMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(logLevels).default('info') }).prefault({}),
  data: z.strictObject({ root: z.string().min(1).optional() }).prefault({}),
  engine: z
    .strictObject({
      maxInFlight: z.number().int().positive().default(1000),
      maxMessageBytes: z.number().int().positive().default(1_048_576),
      // /readyz turns false when a partition's committed offset has not moved this long while records wait.
      stalledCommitMs: z.number().int().positive().default(300_000),
      // After SIGTERM/SIGINT the process exits within this long whatever is stuck (under deploy/'s grace periods).
      shutdownTimeoutMs: z.number().int().positive().default(50_000),
    })
    .prefault({}),
  // When a dead letter cannot be written (docs/operations.md, "Reprocessing dead letters").
  deadLetters: z
    .strictObject({
      // stop: exit non-zero (an orchestrator restarts the worker); block: hold the partition, not ready, retry.
      onFailure: z.enum(['stop', 'block']).default('stop'),
      // block: how often the held dead letter is tried again.
      retryMs: z.number().int().positive().default(5000),
      // A larger payload goes to a dead-letter topic truncated, with its size and SHA-256 in headers.
      maxPayloadBytes: z.number().int().positive().default(524_288),
    })
    .prefault({}),
  // Per-topology options, validated by each topology's own schema. Model batching and execution providers
  // live here, per step (e.g. topologies.ingest.ner.maxBatch, topologies.augment.bioaug.generator.providers).
  topologies: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
});

/** The validated, defaulted configuration. */
export type Config = z.infer<typeof configSchema>;

type Kind = 'string' | 'list' | 'int' | 'bool';

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

/** A configuration that cannot be used; the message names each bad key, where it came from, and what is valid. */
export class ConfigError extends StreamError {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message, {
      stage: 'config',
      hint: '--print-config shows the effective config; --help lists the flags and environment variables',
    });
  }
}

export type LoadConfigOptions = {
  /** YAML file; falls back to flags.config, then env BIOSTREAM_CONFIG. */
  file?: string;
  /** Environment (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Parsed commander options: any key of FLAG_OPTIONS, plus `config` and `set` (key=value strings). */
  flags?: Record<string, unknown>;
};

type Tree = Record<string, unknown>;

/** Loads the effective config: defaults, then the YAML file, then env, then flags (each overriding the last). */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const origins = new Map<string, string>();
  const merged: Tree = {};

  const file =
    opts.file ?? (typeof flags.config === 'string' ? flags.config : undefined) ?? env.BIOSTREAM_CONFIG;
  if (file) {
    const fromFile = readYaml(file);
    mergeInto(merged, fromFile, [], origins, `file ${file}`);
  }

  const problems: string[] = [];
  for (const [name, { key, kind }] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const origin = `env ${name}`;
    const value = coerce(raw, kind, key, origin, problems);
    if (value !== undefined) setPath(merged, key, value, origins, origin);
  }
  for (const [name, { flag, key, kind }] of Object.entries(FLAG_OPTIONS)) {
    const raw = flags[name];
    if (raw === undefined) continue;
    const origin = `flag ${flag.split(' ')[0]}`;
    const value = typeof raw === 'string' ? coerce(raw, kind, key, origin, problems) : raw;
    if (value !== undefined) setPath(merged, key, value, origins, origin);
  }
  const sets = flags.set === undefined ? [] : Array.isArray(flags.set) ? flags.set : [flags.set];
  for (const item of sets) {
    const m = /^([A-Za-z0-9_.-]+)=(.*)$/s.exec(String(item));
    if (!m) {
      problems.push(
        `flag --set "${String(item)}": expected key.path=value, e.g. --set engine.maxInFlight=500`,
      );
      continue;
    }
    // The value is a YAML scalar or flow collection so numbers, booleans and lists keep their types.
    setPath(merged, m[1]!, parseScalar(m[2]!), origins, `flag --set ${m[1]}`);
  }
  if (problems.length) throw new ConfigError(formatProblems(problems), problems);
  return validate(merged, origins);
}

/** Validates a plain object (e.g. from a test or a topology) as a Config, applying defaults. */
export function parseConfig(input: unknown, origin = 'input'): Config {
  const origins = new Map<string, string>([['', origin]]);
  return validate(input, origins);
}

function validate(input: unknown, origins: Map<string, string>): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, input, origins));
  throw new ConfigError(formatProblems(problems), problems);
}

function formatProblems(problems: string[]): string {
  return `invalid configuration (step config):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, origins: Map<string, string>): string[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const valid = validKeysAt(path);
    return issue.keys.map((k) => {
      const key = [...path, k].join('.');
      const suggestion = closest(k, valid);
      return (
        `${key} (${originOf(key, origins)}): unknown key` +
        (suggestion ? `, did you mean ${[...path, suggestion].join('.')}?` : '') +
        `; valid keys${path.length ? ` under ${path.join('.')}` : ''}: ${valid.join(', ')}`
      );
    });
  }
  const key = path.join('.') || '(root)';
  const value = getPath(input, path);
  const shown = value === undefined ? 'missing' : JSON.stringify(redactValue(key, value));
  let detail = issue.message;
  if (issue.code === 'invalid_value') detail = `expected one of ${issue.values.map(String).join(', ')}`;
  else if (issue.code === 'invalid_type') detail = `expected ${issue.expected}`;
  return [`${key} = ${shown} (${originOf(key, origins)}): ${detail}`];
}

function originOf(key: string, origins: Map<string, string>): string {
  const parts = key.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const o = origins.get(parts.slice(0, n).join('.'));
    if (o) return `from ${o}`;
  }
  // An unknown section set through one of its children (e.g. --set metricz.port=1).
  for (const [k, o] of origins) if (k.startsWith(`${key}.`)) return `from ${o}`;
  // A key nobody set that fails validation is a required field left out.
  return 'not set';
}

// Walks the zod schema to list the keys an object accepts at a path (for "valid keys" hints).
function validKeysAt(path: string[]): string[] {
  let schema: unknown = configSchema;
  for (const part of [...path, null]) {
    for (let i = 0; i < 5; i++) {
      const def = (schema as { _zod?: { def?: { innerType?: unknown } } })._zod?.def;
      if (def?.innerType) schema = def.innerType;
      else break;
    }
    if (!(schema instanceof z.ZodObject)) return [];
    if (part === null) return Object.keys(schema.shape);
    schema = schema.shape[part];
  }
  return [];
}

function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read (${(err as Error).message})`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => {
      const line = e.linePos?.[0];
      return `config file ${file}${line ? ` line ${line.line} column ${line.col}` : ''}: ${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(formatProblems(problems), problems);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `config file ${file}: the top level must be a mapping of sections (kafka:, engine:, ...)`,
    );
  }
  return value as Tree;
}

function coerce(raw: string, kind: Kind, key: string, origin: string, problems: string[]): unknown {
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

function parseScalar(text: string): unknown {
  const doc = parseDocument(text);
  return doc.errors.length ? text : (doc.toJS() as unknown);
}

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(
  target: Tree,
  source: Tree,
  prefix: string[],
  origins: Map<string, string>,
  origin: string,
) {
  for (const [k, v] of Object.entries(source)) {
    const path = [...prefix, k];
    if (isTree(v)) {
      if (!isTree(target[k])) target[k] = {};
      origins.set(path.join('.'), origin);
      mergeInto(target[k] as Tree, v, path, origins, origin);
    } else {
      target[k] = v;
      origins.set(path.join('.'), origin);
    }
  }
}

function setPath(target: Tree, key: string, value: unknown, origins: Map<string, string>, origin: string) {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
  origins.set(key, origin);
}

function getPath(root: unknown, path: string[]): unknown {
  let node = root;
  for (const p of path) {
    if (!isTree(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

const secretKey = /(password|secret|token|api[-_]?key|credentials?)$/i;

function redactValue(key: string, value: unknown): unknown {
  const leaf = key.split('.').pop() ?? '';
  if (secretKey.test(leaf) && value !== undefined) return '***';
  if (typeof value === 'string') return redactUrl(value);
  return value;
}

// user:pass@host in a URL (e.g. a schema registry URL) is a credential too.
function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i, (_, scheme: string) => `${scheme}***@`);
}

function redactTree(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => redactTree(v, key));
  if (isTree(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactTree(v, key ? `${key}.${k}` : k)]),
    );
  }
  return redactValue(key, value);
}

/** A copy of the config with passwords, secrets, tokens and URL credentials replaced by '***'. */
export function redactConfig(config: Config): Config {
  return redactTree(config, '') as Config;
}

/** The effective config as YAML for --print-config, secrets redacted. */
export function printConfig(config: Config): string {
  return stringify(redactConfig(config), { lineWidth: 0 });
}

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

/** Applies process-wide settings: BIOSTREAM_DATA for dataPath() and the root logger level. */
export function applyProcessConfig(config: Config): void {
  if (config.data.root) process.env.BIOSTREAM_DATA = resolve(config.data.root);
  logger.level = config.log.level;
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
