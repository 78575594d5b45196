// What `eval pubtator --kafka` and `eval relations --kafka` share: a broker (KAFKA_BROKERS, or an
// in-process librdkafka mock cluster) with the run's own topics, the abstracts produced Avro-encoded
// by the engine's Kafka sink, a topology run until every abstract settled, and records read back and
// decoded with their schema. The commands only differ in the topology and in what they score.
import { randomUUID } from 'node:crypto';
import { MemorySink, MemorySource } from '../engine/memory.ts';
import { runTopology, type RunningTopology } from '../engine/runner.ts';
import type { Source } from '../engine/types.ts';
import { createCodec, type Codec } from '../io/avro/codec.ts';
import type { SchemaName } from '../io/avro/schemas.ts';
import type { PubmedArticle } from '../io/avro/types.generated.ts';
import { createKafka, parseBrokers } from '../io/kafka/client.ts';
import { KafkaSink } from '../io/kafka/kafkaSink.ts';
import { KafkaSource } from '../io/kafka/kafkaSource.ts';
import { startMockCluster, type MockCluster } from '../io/kafka/mockCluster.ts';

/** Where an evaluation over Kafka runs. */
export interface EvalBrokerOptions {
  /** Brokers to use (default KAFKA_BROKERS, else an in-process mock cluster of 3 brokers). */
  brokers?: string[];
  partitions?: number;
  /** Creates a topic on an external broker (tests); default: the admin API. */
  createTopic?: (name: string, partitions: number) => Promise<void>;
}

/** A broker with the run's topics `eval.<run>.<name>` and a codec. */
export interface EvalBroker<N extends string> {
  brokers: string[];
  run: string;
  topics: Record<N, string>;
  codec: Codec;
  /** How the report names the broker. */
  description: string;
  /** A Kafka sink of `schema` records to `topic`. */
  sink<T>(topic: string, schema: SchemaName): KafkaSink<T>;
}

/** Polls `cond` every 100 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`eval --kafka: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `fn` against a broker holding the named topics; a mock cluster is destroyed afterwards. */
export async function withEvalBroker<N extends string, R>(
  o: EvalBrokerOptions,
  names: readonly N[],
  fn: (b: EvalBroker<N>) => Promise<R>,
): Promise<R> {
  const external = o.brokers ?? parseBrokers(process.env.KAFKA_BROKERS);
  let mock: MockCluster | null = null;
  const brokers = external.length > 0 ? external : (mock = startMockCluster(3)).brokers;
  const run = randomUUID().slice(0, 8);
  const topics = Object.fromEntries(names.map((n) => [n, `eval.${run}.${n}`])) as Record<N, string>;
  const partitions = o.partitions ?? 3;
  try {
    if (mock) for (const t of Object.values<string>(topics)) mock.createTopic(t, partitions, 3);
    else if (o.createTopic) for (const t of Object.values<string>(topics)) await o.createTopic(t, partitions);
    else {
      const admin = createKafka({ brokers }).admin();
      await admin.connect();
      await admin.createTopics({
        topics: Object.values<string>(topics).map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: true,
      });
      await admin.disconnect();
    }
    const codec = await createCodec();
    return await fn({
      brokers,
      run,
      topics,
      codec,
      description: mock ? 'librdkafka mock cluster (3 brokers, in-process)' : brokers.join(','),
      sink: <T>(topic: string, schema: SchemaName) =>
        new KafkaSink<T>({
          brokers,
          topic,
          schema: `bioaug.stream.${schema}`,
          encode: (v) => codec.encode(schema, v as never),
        }),
    });
  } finally {
    mock?.destroy();
  }
}

/** Produces the abstracts (Avro, keyed by PMID) to `topic` with the engine's own Kafka sink. */
export async function produceAbstracts(
  b: EvalBroker<string>,
  topic: string,
  articles: PubmedArticle[],
): Promise<void> {
  const feed = new MemorySource<PubmedArticle>('eval-feed', articles, {
    maxInFlight: 500,
    keyOf: (v) => (v as PubmedArticle).pmid,
  });
  await runTopology({
    sources: { feed },
    sinks: { abstracts: b.sink<PubmedArticle>(topic, 'PubmedArticle') as never },
    build: (s, k) => s.feed!.pipe(k.abstracts!.write()),
    config: {},
    handleSignals: false,
  }).done;
}

/** A Kafka source of the abstracts for the topology under evaluation. */
export function abstractsSource(
  b: EvalBroker<string>,
  topic: string,
  group: string,
  deadLetters: ConstructorParameters<typeof KafkaSource>[0]['deadLetters'],
): KafkaSource<PubmedArticle> {
  return new KafkaSource<PubmedArticle>({
    brokers: b.brokers,
    topics: [topic],
    groupId: `eval-${b.run}-${group}`,
    fromBeginning: true,
    maxInFlight: 256,
    decode: (raw) => b.codec.decode(raw, 'PubmedArticle'),
    ...(deadLetters ? { deadLetters } : {}),
  });
}

/** Waits until the source settled (acked or dead-lettered) every abstract, then stops the run. */
export async function settleAndStop(
  source: KafkaSource<PubmedArticle>,
  running: RunningTopology,
  abstracts: number,
): Promise<void> {
  await waitFor(
    () => source.stats.acked + source.stats.deadLettered >= abstracts,
    30 * 60_000,
    'the topology to settle every abstract',
  );
  await running.stop();
}

/** Reads `schema` records back from `topic` until `done(count)` holds (a new group, from the beginning). */
export async function readBack<T>(
  b: EvalBroker<string>,
  topic: string,
  schema: SchemaName,
  done: (count: number) => boolean,
  what: string,
): Promise<MemorySink<T>['items']> {
  const reader = new KafkaSource<T>({
    brokers: b.brokers,
    topics: [topic],
    groupId: `eval-${b.run}-read-${schema}`,
    fromBeginning: true,
    maxInFlight: 5000,
    decode: (raw) => b.codec.decode(raw, schema) as T,
  });
  const got = new MemorySink<T>(`read-${schema}`);
  const r = runTopology({
    sources: { r: reader as Source<unknown> },
    sinks: { got: got as never },
    build: (s, k) => s.r!.pipe(k.got!.write()),
    config: {},
    handleSignals: false,
  });
  await waitFor(() => done(got.items.length), 10 * 60_000, what);
  await r.stop();
  return got.items;
}

/** Rounds every non-integer number of a (nested) figures object to 2 decimals. */
export function roundFigures(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? v : Math.round(v * 100) / 100;
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundFigures(x)]));
  return v;
}
