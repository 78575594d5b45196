import { describe, expect, it } from 'vitest';
import { committedTotal, produceRange, readAll, waitFor } from '../helpers/kafkaData.ts';
import { decodeJson, encodeJson, fanOut, identity, type Rec } from '../helpers/topologies.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { runTopology, type BuildFn } from '../../src/engine/runner.ts';
import { useTestBroker } from '../helpers/setup.ts';

const N = 100_000;
const broker = useTestBroker(async (broker) => {
  await broker.createTopic('id.in', 4);
  await broker.createTopic('id.out', 4);
  await broker.createTopic('fan.out', 12);
  await produceRange(broker.brokers, 'id.in', 0, N);
});

async function runThrough(build: BuildFn, outTopic: string, groupId: string): Promise<KafkaSource<Rec>> {
  const source = new KafkaSource<Rec>({
    brokers: broker.brokers,
    topics: ['id.in'],
    groupId,
    maxInFlight: 5000,
    decode: decodeJson,
  });
  const sink = new KafkaSink<unknown>({ brokers: broker.brokers, topic: outTopic, encode: encodeJson });
  const run = runTopology({
    sources: { in: source },
    sinks: { out: sink },
    build,
    config: {},
    handleSignals: false,
  });
  const t0 = Date.now();
  await waitFor(() => source.stats.acked >= N, 240_000, `${N} acks`);
  await run.stop();
  console.log(`[${groupId}] ${N} inputs acked in ${Date.now() - t0} ms; commits=${source.stats.commits}`);
  return source;
}

describe('Kafka identity and fan-out topologies (100k messages)', () => {
  it('identity: every input appears on the output topic and offsets are committed', async () => {
    await runThrough(identity, 'id.out', 'identity');
    expect(await committedTotal(broker.brokers, 'identity', 'id.in')).toBe(N);
    const out = await readAll(broker.brokers, 'id.out');
    const keys = new Set(out.map((r) => r.key));
    const missing = [];
    for (let i = 0; i < N; i++) if (!keys.has(`k${i}`)) missing.push(i);
    console.log(
      `identity: outputs=${out.length} distinct=${keys.size} duplicates=${out.length - keys.size} missing=${missing.length}`,
    );
    expect(missing).toEqual([]);
    const sample = out.find((r) => r.key === 'k4242')!;
    expect(JSON.parse(sample.value!.toString())).toEqual({ id: 4242, body: 'abstract 4242' });
    expect(sample.headers['trace-id']).toBeTruthy();
  }, 300_000);

  it('fan-out: after dedupe by key every input has all 3 children', async () => {
    await runThrough(fanOut, 'fan.out', 'fanout');
    expect(await committedTotal(broker.brokers, 'fanout', 'id.in')).toBe(N);
    const out = await readAll(broker.brokers, 'fan.out', 60_000);
    const keys = new Set(out.map((r) => r.key));
    let missing = 0;
    for (let i = 0; i < N; i++) for (let c = 0; c < 3; c++) if (!keys.has(`k${i}:${c}`)) missing++;
    console.log(
      `fan-out: outputs=${out.length} distinct=${keys.size} duplicates=${out.length - keys.size} missing=${missing}`,
    );
    expect(missing).toBe(0);
    expect(keys.size).toBe(3 * N);
  }, 300_000);
});
