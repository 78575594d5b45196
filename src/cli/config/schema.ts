/** The shape of a bioaug-stream configuration: one zod schema with every section and its defaults. */
import { z } from 'zod';
import { logLevels, saslMechanisms } from './choices.ts';

export { logLevels, saslMechanisms } from './choices.ts';

// prefault (not default) so the nested defaults are applied when a whole section is missing.
const KafkaSectionConfig = z
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

export const Config = z.strictObject({
  kafka: KafkaSectionConfig,
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
export type Config = z.output<typeof Config>;
