// The action of `bioaug-stream consume` (options in consume.ts): reads a topic, decoding Avro, into an
// output URI until --max records or --idle-ms without new ones.
import { randomBytes } from 'node:crypto';
import { tap, type Observable } from 'rxjs';
import { runTopology } from '../../engine/runner.ts';
import type { Envelope } from '../../engine/envelope.ts';
import { createCodec } from '../../io/avro/codec.ts';
import { checkBrokers } from '../../io/kafka/checkBrokers.ts';
import { openDeadLettersUri, openSinkUri, openSourceUri } from '../../io/wiring.ts';
import { applyProcessConfig, kafkaConnection, loadConfig, printConfig, registryOptions } from '../config.ts';

/** Consumes the topic of `consume`'s parsed flags (config flags included). */
export async function consumeAction(flags: Record<string, unknown>): Promise<void> {
  const config = loadConfig({ flags });
  if (flags.printConfig) {
    process.stdout.write(printConfig(config));
    return;
  }
  applyProcessConfig(config);
  const connection = kafkaConnection(config);
  await checkBrokers(connection);
  const codec = await createCodec(registryOptions(config));
  const deadLetters = openDeadLettersUri(flags.deadLetters as string, connection);
  const topicArg = flags.topic as string;
  const uri = topicArg.startsWith('kafka:') ? topicArg : `kafka:${topicArg}`;
  const max = flags.max === undefined ? Number.POSITIVE_INFINITY : Number(flags.max);
  if (!(max > 0) || !Number.isInteger(max === Number.POSITIVE_INFINITY ? 1 : max))
    throw new Error(`consume: --max must be a positive integer, got ${String(flags.max)}`);
  const wiring = {
    connection,
    groupId: consumerGroup(flags, config.kafka.groupId),
    fromBeginning: config.kafka.fromBeginning,
    // With --max, at most that many records are ever in flight, so none past it is written.
    maxInFlight: Math.min(config.engine.maxInFlight, max),
    maxMessageBytes: config.engine.maxMessageBytes,
    codec,
    deadLetters,
    producer: config.kafka.producer,
    consumer: config.kafka.consumer,
  };
  const source = openSourceUri(uri, wiring, 'consume');
  const sink = openSinkUri(flags.out as string, wiring, 'out');
  let seen = 0;
  let stop = (): void => undefined;
  const run = runTopology({
    sources: { in: source },
    sinks: { out: sink },
    deadLetters,
    build: (s) =>
      (s.in as Observable<Envelope<unknown>>).pipe(
        // Stopping at the max-th record (synchronously, before the source emits the next one) keeps
        // the count exact: the source checks its stop flag before every emission.
        tap(() => {
          seen += 1;
          if (seen >= max) stop();
        }),
        sink.write(),
      ),
    config: {},
  });
  stop = () => void run.stop();
  const stats = (source as { stats?: { consumed: number; rebalances: number } }).stats;
  // With --max the caller knows how many records to wait for (a topology may still be writing them).
  const idleMs =
    flags.idleMs === undefined ? (flags.max === undefined ? 5000 : 30_000) : Number(flags.idleMs);
  if (!(idleMs >= 0)) throw new Error(`consume: --idle-ms must be >= 0, got ${String(flags.idleMs)}`);
  // Idle time counts from the group assignment: joining a group can itself take seconds.
  let lastCount = -1;
  let idleSince = 0;
  const poll =
    idleMs > 0
      ? setInterval(
          () => {
            if (!stats || stats.rebalances === 0) return;
            const now = Date.now();
            if (stats.consumed !== lastCount) {
              lastCount = stats.consumed;
              idleSince = now;
            } else if (now - idleSince >= idleMs) stop();
          },
          Math.min(250, idleMs),
        )
      : undefined;
  const result = await run.done;
  if (poll) clearInterval(poll);
  process.stderr.write(
    `consumed ${result.outputs} records from ${uri} (group ${wiring.groupId}) -> ${flags.out as string}\n`,
  );
}

/**
 * The consumer group of `consume`: the one given by --group-id or KAFKA_GROUP_ID, else a fresh one per
 * run, so that reading a topic never joins (and steals partitions from) a running topology's group.
 */
export function consumerGroup(flags: Record<string, unknown>, configured: string): string {
  if (typeof flags.groupId === 'string' || process.env.KAFKA_GROUP_ID) return configured;
  return `bioaug-stream-consume-${randomBytes(4).toString('hex')}`;
}
