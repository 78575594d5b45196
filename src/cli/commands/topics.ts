// `bioaug-stream topics`: list topics with partitions and offsets; create topics where the broker allows it.
import type { Command } from 'commander';
import { addConfigOptions } from '../config/configOptions.ts';

/** What the actions use (kafkajs, the config loader), imported when one runs rather than for `--help`. */
async function load() {
  const [{ checkBrokers }, { createKafka }, config] = await Promise.all([
    import('../../io/kafka/checkBrokers.ts'),
    import('../../io/kafka/client.ts'),
    import('../config.ts'),
  ]);
  return { checkBrokers, createKafka, ...config };
}

/** Registers `topics list` and `topics create`. */
export function register(program: Command): void {
  const topics = program.command('topics').description('list or create Kafka topics');
  const list = topics.command('list').description('list topics with partition count and message count');
  addConfigOptions(list);
  list.action(async (flags: Record<string, unknown>) => {
    const { applyProcessConfig, checkBrokers, createKafka, kafkaConnection, loadConfig, printConfig } =
      await load();
    const config = loadConfig({ flags });
    if (flags.printConfig) {
      process.stdout.write(printConfig(config));
      return;
    }
    applyProcessConfig(config);
    await checkBrokers(kafkaConnection(config));
    const admin = createKafka(kafkaConnection(config)).admin();
    await admin.connect();
    try {
      const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
      for (const t of names) {
        const offs = await admin.fetchTopicOffsets(t);
        const messages = offs.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
        process.stdout.write(`${t}\tpartitions=${offs.length}\tmessages=${messages}\n`);
      }
    } finally {
      await admin.disconnect();
    }
  });
  const create = topics
    .command('create <name...>')
    .description('create topics (not supported by every broker, e.g. the librdkafka mock)')
    .option('--partitions <n>', 'partitions per topic', '6')
    .option('--replication <n>', 'replication factor', '3');
  addConfigOptions(create);
  create.action(async (names: string[], flags: Record<string, unknown>) => {
    const { applyProcessConfig, checkBrokers, createKafka, kafkaConnection, loadConfig } = await load();
    const config = loadConfig({ flags });
    applyProcessConfig(config);
    const partitions = Number(flags.partitions);
    const replication = Number(flags.replication);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error('topics create: --partitions must be >= 1');
    if (!Number.isInteger(replication) || replication < 1)
      throw new Error('topics create: --replication must be >= 1');
    await checkBrokers(kafkaConnection(config));
    const admin = createKafka(kafkaConnection(config)).admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replication })),
        waitForLeaders: true,
      });
      process.stdout.write(
        created ? `created ${names.join(', ')}\n` : `already present: ${names.join(', ')}\n`,
      );
    } catch (e) {
      throw new Error(
        `topics create: the broker refused CreateTopics (${(e as Error).message}); create them with the broker's own tools`,
        { cause: e },
      );
    } finally {
      await admin.disconnect();
    }
  });
}
