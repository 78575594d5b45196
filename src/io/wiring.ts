// Opens sources, sinks and dead-letter writers from URIs: `kafka:` through src/io/kafka, file URIs
// through src/io/files. It sits above both so that neither transport knows about the other.
import type { Codec } from './avro/codec.ts';
import type { SchemaName } from './avro/schemas.ts';
import type { DeadLetterWriter, Sink, Source } from '../engine/types.ts';
import type { DeadLetterFailurePolicy } from '../engine/deadLetters.ts';
import { openDeadLetterWriter, openSink, openSource } from './files/index.ts';
import type { KafkaConnection } from './kafka/client.ts';
import type { z } from 'zod';
import { KafkaSource, type KafkaSourceConfig } from './kafka/kafkaSource.ts';
import { KafkaSink, type KafkaSinkConfig } from './kafka/kafkaSink.ts';
import { KafkaDeadLetters } from './kafka/kafkaDeadLetters.ts';
import { isKafkaUri, parseKafkaUri } from './kafka/uris.ts';

/** What URI wiring needs from the effective config. */
export interface WiringOptions {
  connection: KafkaConnection;
  groupId: string;
  fromBeginning: boolean;
  maxInFlight: number;
  maxMessageBytes: number;
  codec: Codec;
  deadLetters?: DeadLetterWriter;
  /** When a dead letter cannot be written: stop (exit non-zero) or block (hold, not ready, retry). */
  deadLetterOnFailure?: DeadLetterFailurePolicy;
  /** block: how often the held dead letter is tried again (ms). */
  deadLetterRetryMs?: number;
  /** Kafka sources: not ready once a partition's commit has not moved this long while records wait. */
  stalledCommitMs?: number;
  /** Sink tuning (kafka.producer in the config). */
  producer?: Pick<
    z.input<typeof KafkaSinkConfig>,
    'batchSize' | 'lingerMs' | 'compression' | 'maxConcurrentSends' | 'traceHeader' | 'maxRetries'
  >;
  /** Source tuning (kafka.consumer in the config). */
  consumer?: Pick<
    z.input<typeof KafkaSourceConfig>,
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'commitIntervalMs'
    | 'partitionsConsumedConcurrently'
    | 'maxBytesPerPartition'
  >;
}

/** Opens a source: `kafka:<topic>` (Avro, Confluent wire format) or any file URI of src/io/files. */
export function openSourceUri(uri: string, o: WiringOptions, id = uri): Source<unknown> {
  if (!isKafkaUri(uri))
    return openSource(uri, {
      id,
      maxInFlight: o.maxInFlight,
      ...(o.deadLetters ? { deadLetters: o.deadLetters } : {}),
      ...policy(o),
    });
  const { topic, schema } = parseKafkaUri(uri);
  return new KafkaSource<unknown>({
    ...o.connection,
    ...o.consumer,
    id,
    topics: [topic],
    groupId: o.groupId,
    fromBeginning: o.fromBeginning,
    maxInFlight: o.maxInFlight,
    maxMessageBytes: o.maxMessageBytes,
    ...(o.deadLetters ? { deadLetters: o.deadLetters } : {}),
    ...policy(o),
    ...(o.stalledCommitMs !== undefined ? { stalledCommitMs: o.stalledCommitMs } : {}),
    decode: schema ? (raw) => o.codec.decode(raw, schema) : (raw) => o.codec.decode(raw),
    // Schema ids registered after start (an upgraded producer) are fetched from the registry first.
    prepare: (raw) => o.codec.learnSchemaOf(raw),
  });
}

function policy(o: WiringOptions): {
  deadLetterOnFailure?: DeadLetterFailurePolicy;
  deadLetterRetryMs?: number;
} {
  return {
    ...(o.deadLetterOnFailure ? { deadLetterOnFailure: o.deadLetterOnFailure } : {}),
    ...(o.deadLetterRetryMs !== undefined ? { deadLetterRetryMs: o.deadLetterRetryMs } : {}),
  };
}

/** Opens a sink: `kafka:<topic>[?schema=Name]` (Avro) or any file URI of src/io/files. */
export function openSinkUri(
  uri: string,
  o: WiringOptions,
  id = uri,
  fallbackSchema?: SchemaName,
): Sink<unknown> {
  if (!isKafkaUri(uri)) return openSink(uri, { id });
  const { topic, schema = fallbackSchema } = parseKafkaUri(uri);
  if (!schema)
    throw new Error(
      `sink '${uri}': no Avro schema known for topic '${topic}'; add ?schema=<Name> (e.g. kafka:${topic}?schema=NerPrediction)`,
    );
  return new KafkaSink<unknown>({
    ...o.connection,
    ...o.producer,
    id,
    topic,
    schema: `bioaug.stream.${schema}`,
    encode: (v) => o.codec.encode(schema, v as never),
  });
}

/**
 * Opens a dead-letter writer: `kafka:<topic>`, `jsonl:<path>`, `stdout:jsonl` or `stderr:`. A Kafka
 * one truncates payloads over `maxPayloadBytes` (headers give the original size and SHA-256).
 */
export function openDeadLettersUri(
  uri: string,
  connection: KafkaConnection,
  opts: { maxPayloadBytes?: number } = {},
): DeadLetterWriter {
  if (isKafkaUri(uri))
    return new KafkaDeadLetters({ ...connection, ...opts, topic: parseKafkaUri(uri).topic });
  return openDeadLetterWriter(uri);
}

/** Splits `name=uri` (a bare `uri` gets `fallbackName`). */
export function namedUri(
  spec: string,
  fallbackName: string | undefined,
  what: string,
): { name: string; uri: string } {
  const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(spec);
  if (m) return { name: m[1]!, uri: m[2]! };
  if (!fallbackName)
    throw new Error(`${what} '${spec}': give it a name (name=uri); the topology has several ${what}s`);
  return { name: fallbackName, uri: spec };
}
