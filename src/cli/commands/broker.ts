// `bioaug-stream broker`: an in-memory Kafka development broker in the foreground, so the Kafka
// commands of the README run without Docker. Not durable storage: everything is lost when it stops.
import type { Command } from 'commander';
import { DEV_TOPICS } from '../../io/kafka/devTopics.ts';

/** Registers `broker`. */
export function register(program: Command): void {
  program
    .command('broker')
    .description(
      "start an in-memory Kafka development broker (librdkafka's mock cluster) with the topologies' topics; " +
        'NOT durable storage: data is lost when it stops (Ctrl-C)',
    )
    .option('--port <n>', 'bootstrap port on 127.0.0.1 (0: any free port)', '9092')
    .option('--brokers <n>', 'mock brokers in the cluster', '3')
    .option('--partitions <n>', 'partitions of each topic', '3')
    .option('--topics <list>', `comma-separated topics to create (default: ${DEV_TOPICS.join(', ')})`)
    .action(async (o: { port: string; brokers: string; partitions: string; topics?: string }) => {
      // Imported here: the mock cluster loads librdkafka (koffi), which `--help` has no use for.
      const { startDevBroker } = await import('../../io/kafka/devBroker.ts');
      const broker = await startDevBroker({
        port: Number(o.port),
        brokers: Number(o.brokers),
        partitions: Number(o.partitions),
        ...(o.topics
          ? {
              topics: o.topics
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
            }
          : {}),
      });
      process.stdout.write(
        `bioaug-stream broker: in-memory development broker (not durable) on ${broker.bootstrap}\n` +
          `topics (${o.partitions} partitions): ${broker.topics.join(', ')}\n` +
          `use: --brokers ${broker.bootstrap} (or KAFKA_BROKERS=${broker.bootstrap}); Ctrl-C stops it\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await broker.stop();
      process.stdout.write('bioaug-stream broker: stopped\n');
    });
}
