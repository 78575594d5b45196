// One Kafka broker for tests: KAFKA_BROKERS when set, else librdkafka's in-process mock cluster
// (3 brokers), else (only when librdkafka cannot load) testcontainers' Apache Kafka on a Docker engine.
import { startMockCluster, type MockCluster } from '../../src/io/kafka/mockCluster.ts';
import { createKafka, parseBrokers } from '../../src/io/kafka/client.ts';

export type { MockCluster };

/** A broker tests can create topics on; `mock` is set when fault injection is available. */
export interface TestBroker {
  brokers: string[];
  createTopic(name: string, partitions: number, replication?: number): Promise<void>;
  mock?: MockCluster;
  stop(): Promise<void>;
}

async function adminCreate(
  brokers: string[],
  name: string,
  partitions: number,
  replication: number,
): Promise<void> {
  const admin = createKafka({ brokers, clientId: 'test-admin' }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: replication }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Starts (or attaches to) a Kafka broker for a test file. */
export async function startTestBroker(): Promise<TestBroker> {
  const external = parseBrokers(process.env.KAFKA_BROKERS);
  if (external.length > 0) {
    return {
      brokers: external,
      createTopic: (name, partitions, replication = 1) =>
        adminCreate(external, name, partitions, replication),
      stop: () => Promise.resolve(),
    };
  }
  let mockError: unknown;
  try {
    const mock = startMockCluster(3);
    return {
      brokers: mock.brokers,
      mock,
      createTopic: (name, partitions, replication = 3) => {
        mock.createTopic(name, partitions, replication);
        return Promise.resolve();
      },
      stop: () => {
        mock.destroy();
        return Promise.resolve();
      },
    };
  } catch (e) {
    mockError = e;
  }
  // No librdkafka: fall back to a real Apache Kafka container where a Docker engine answers.
  try {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.5.0').withKraft().start();
    const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
    return {
      brokers,
      createTopic: (name, partitions, replication = 1) =>
        adminCreate(brokers, name, partitions, Math.min(replication, 1)),
      stop: async () => {
        await container.stop();
      },
    };
  } catch (e) {
    throw new Error(
      `startTestBroker: no Kafka available. Set KAFKA_BROKERS, install librdkafka1 (mock cluster failed: ${String(mockError)}), or run a Docker engine (testcontainers failed: ${String(e)})`,
      { cause: e },
    );
  }
}
