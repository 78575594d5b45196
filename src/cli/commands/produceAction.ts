// The action of `bioaug-stream produce` (options in produce.ts): a file to a topic as Avro, or the raw
// records of a dead-letter topic back into a topic (--from-dlq).
import cliProgress from 'cli-progress';
import { filter, map, type Observable } from 'rxjs';
import { runTopology } from '../../engine/runner.ts';
import type { Envelope } from '../../engine/envelope.ts';
import { createCodec } from '../../io/avro/codec.ts';
import { SCHEMA_NAMES, type SchemaName } from '../../io/avro/schemaNames.ts';
import { checkBrokers } from '../../io/kafka/checkBrokers.ts';
import { KafkaSink } from '../../io/kafka/kafkaSink.ts';
import { KafkaSource } from '../../io/kafka/kafkaSource.ts';
import { openSourceUri, openDeadLettersUri } from '../../io/wiring.ts';
import { TOPIC_SCHEMAS } from '../../io/kafka/uris.ts';
import { applyProcessConfig, kafkaConnection, loadConfig, printConfig, registryOptions } from '../config.ts';

/** The original headers of a dead letter (its `dlq.*` context removed). */
export function withoutDlqHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('dlq.')));
}

/** Produces `input` (or the dead letters of --from-dlq) with `produce`'s parsed flags. */
export async function produceAction(
  input: string | undefined,
  flags: Record<string, unknown>,
): Promise<void> {
  const config = loadConfig({ flags });
  if (flags.printConfig) {
    process.stdout.write(printConfig(config));
    return;
  }
  applyProcessConfig(config);
  const topic = flags.topic as string;
  const connection = kafkaConnection(config);
  await checkBrokers(connection);
  const bar = new cliProgress.SingleBar(
    { format: 'produce {topic} | {value} records | {rate}/s', stream: process.stderr, noTTYOutput: false },
    cliProgress.Presets.shades_classic,
  );
  const showProgress = flags.progress !== false;
  const started = Date.now();
  let sent: number;
  const progress = (n: number): void => {
    if (showProgress)
      bar.update(n, { topic, rate: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)) });
  };
  if (showProgress) bar.start(0, 0, { topic, rate: 0 });

  if (flags.fromDlq) {
    // Dead letters hold the original bytes: send them back unchanged, minus the dlq.* headers.
    const source = new KafkaSource<Buffer | null>({
      ...connection,
      topics: [flags.fromDlq as string],
      groupId: `${config.kafka.groupId}.dlq-reinject`,
      fromBeginning: true,
      maxInFlight: config.engine.maxInFlight,
      maxMessageBytes: Number.MAX_SAFE_INTEGER,
      // A dead-lettered tombstone is a tombstone in the dead-letter topic: it goes back as one.
      passTombstones: true,
      decode: (raw) => raw,
    });
    const sink = new KafkaSink<Buffer | null>({ ...connection, topic, encode: (v) => v });
    const truncated: string[] = [];
    const run = runTopology({
      sources: { dlq: source },
      sinks: { out: sink },
      build: (s) =>
        (s.dlq as Observable<Envelope<Buffer | null>>).pipe(
          // A truncated dead letter is not the record: re-injecting it would only fail again. It is
          // counted and named (its full record is at its dlq.origin.* offset), not sent.
          filter((env) => {
            if (env.headers['dlq.payload.truncated'] !== 'true') return true;
            truncated.push(
              `${env.headers['dlq.origin.topic']}/${env.headers['dlq.origin.partition']}/${env.headers['dlq.origin.offset']}`,
            );
            env.ack.ack();
            return false;
          }),
          map((env) => ({ ...env, headers: withoutDlqHeaders(env.headers) })),
          sink.write(),
        ),
      config: {},
    });
    let last = -1;
    const idleMs = Number(flags.idleMs);
    const watch = setInterval(() => {
      if (source.stats.acked === last) void run.stop();
      last = source.stats.acked;
    }, idleMs);
    const counter = setInterval(() => progress(sink.stats.sent), 200);
    await run.done;
    clearInterval(watch);
    clearInterval(counter);
    sent = sink.stats.sent;
    if (truncated.length > 0)
      process.stderr.write(
        `produce --from-dlq: ${truncated.length} truncated dead letter(s) not re-injected (payload cut to fit the DLQ); ` +
          `re-read them from their origin (topic/partition/offset): ${truncated.slice(0, 10).join(', ')}${truncated.length > 10 ? ', ...' : ''}\n`,
      );
  } else {
    if (!input)
      throw new Error('produce: give an input URI (e.g. pubtator:data/abstracts.txt) or --from-dlq <topic>');
    const schema = ((flags.schema as string | undefined) ?? TOPIC_SCHEMAS[topic]) as SchemaName | undefined;
    if (!schema || !(SCHEMA_NAMES as readonly string[]).includes(schema))
      throw new Error(
        `produce: unknown or missing --schema '${schema ?? ''}'; valid: ${SCHEMA_NAMES.join(', ')}`,
      );
    const codec = await createCodec(registryOptions(config));
    const deadLetters = openDeadLettersUri(flags.deadLetters as string, connection);
    const source = openSourceUri(input, {
      connection,
      groupId: config.kafka.groupId,
      fromBeginning: true,
      maxInFlight: config.engine.maxInFlight,
      maxMessageBytes: config.engine.maxMessageBytes,
      codec,
      deadLetters,
    });
    const sink = new KafkaSink<unknown>({
      ...connection,
      topic,
      schema: `bioaug.stream.${schema}`,
      encode: (v) => codec.encode(schema, v as never),
    });
    const run = runTopology({
      sources: { in: source },
      sinks: { out: sink },
      deadLetters,
      build: (s) => (s.in as Observable<Envelope<unknown>>).pipe(sink.write()),
      config: {},
    });
    const counter = setInterval(() => progress(sink.stats.sent), 200);
    await run.done;
    clearInterval(counter);
    sent = sink.stats.sent;
  }
  if (showProgress) {
    progress(sent);
    bar.stop();
  }
  process.stdout.write(
    `produced ${sent} records to ${topic} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
