import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/io/kafka/client.ts';
import { registry } from '../../../src/obs/metrics.ts';
import { measureLag, startLagMonitor } from '../../../src/obs/lag.ts';
import { useTestBroker } from '../../helpers/setup.ts';

// Lag is measured against a real Kafka-protocol broker (librdkafka mock cluster, or KAFKA_BROKERS).
const broker = useTestBroker();

describe('consumer lag', () => {
  it('reports high watermark minus committed offset per partition, and all retained records before any commit', async () => {
    const topic = `h7-lag-${Date.now()}`;
    const groupId = `h7-lag-group-${Date.now()}`;
    await broker.createTopic(topic, 2);
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'h7-lag' });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `a${i}` })),
        ...Array.from({ length: 3 }, (_, i) => ({ partition: 1, value: `b${i}` })),
      ],
    });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    try {
      const before = await measureLag(admin, groupId, [topic]);
      expect(before.map((s) => [s.partition, s.lag, s.committed]).sort()).toEqual([
        [0, 7, null],
        [1, 3, null],
      ]);

      // Commit as the group's member would (the mock broker lacks DescribeGroups, so no admin.setOffsets).
      const consumer = kafka.consumer({ groupId });
      await consumer.connect();
      const joined = new Promise<void>((resolveJoin) =>
        consumer.on(consumer.events.GROUP_JOIN, () => resolveJoin()),
      );
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: async () => {} });
      await joined;
      await consumer.commitOffsets([{ topic, partition: 0, offset: '5' }]);
      await consumer.disconnect();

      const monitor = startLagMonitor({ admin, groupId, topics: [topic], intervalMs: 60_000 });
      const after = await monitor.poll();
      monitor.stop();
      expect(after.map((s) => [s.partition, s.high, s.committed, s.lag]).sort()).toEqual([
        [0, 7, 5, 2],
        [1, 3, null, 3],
      ]);
      const text = await registry.metrics();
      expect(text).toContain(`bioaug_consumer_lag{group="${groupId}",topic="${topic}",partition="0"} 2`);
      expect(text).toContain(`bioaug_consumer_lag{group="${groupId}",topic="${topic}",partition="1"} 3`);
    } finally {
      await admin.disconnect();
    }
  });
});
