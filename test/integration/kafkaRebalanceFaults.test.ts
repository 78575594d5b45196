import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observable } from 'rxjs';
import { startTestBroker, type TestBroker } from '../helpers/kafkaBroker.ts';
import { committedTotal, produceRange, readAll, waitFor } from '../helpers/kafkaData.ts';
import { decodeJson, encodeJson, type Rec } from '../helpers/topologies.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { ApiKey, KafkaErr } from '../../src/io/kafka/mockCluster.ts';
import { runTopology, type RunningTopology } from '../../src/engine/runner.ts';
import { mapStep } from '../../src/engine/step.ts';
import type { Envelope } from '../../src/engine/envelope.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker?.stop();
});

/** Starts one engine member: in -> async identity (delayMs per item, 20 concurrent) -> out. */
function member(
  inTopic: string,
  outTopic: string,
  groupId: string,
  name: string,
  delayMs: number,
): { source: KafkaSource<Rec>; sink: KafkaSink<Rec>; run: RunningTopology } {
  const source = new KafkaSource<Rec>({
    brokers: broker.brokers,
    topics: [inTopic],
    groupId,
    clientId: name,
    maxInFlight: 400,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    decode: decodeJson,
  });
  const sink = new KafkaSink<Rec>({
    brokers: broker.brokers,
    topic: outTopic,
    encode: encodeJson,
    lingerMs: 2,
  });
  const run = runTopology({
    sources: { in: source },
    sinks: { out: sink },
    build: (s) =>
      (s.in as Observable<Envelope<Rec>>).pipe(
        mapStep(
          `${name}.slow`,
          async (r: Rec) => {
            if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
            return r;
          },
          { concurrency: 20 },
        ),
        sink.write(),
      ),
    config: {},
    handleSignals: false,
  });
  return { source, sink, run };
}

async function missingKeys(
  topic: string,
  n: number,
): Promise<{ missing: number; duplicates: number; outputs: number }> {
  const out = await readAll(broker.brokers, topic);
  const keys = new Set(out.map((r) => r.key));
  let missing = 0;
  for (let i = 0; i < n; i++) if (!keys.has(`k${i}`)) missing++;
  return { missing, duplicates: out.length - keys.size, outputs: out.length };
}

describe('rebalance: a second consumer joins and later leaves mid-run', () => {
  it('loses nothing', async () => {
    const N = 20_000;
    await broker.createTopic('reb.in', 8);
    await broker.createTopic('reb.out', 8);
    await produceRange(broker.brokers, 'reb.in', 0, N);
    const a = member('reb.in', 'reb.out', 'reb', 'member-a', 2);
    await waitFor(() => a.source.stats.acked > 2000, 60_000, 'member A to make progress');
    const b = member('reb.in', 'reb.out', 'reb', 'member-b', 2);
    await waitFor(() => b.source.stats.acked > 1000, 60_000, 'member B to get partitions and make progress');
    const committedBeforeLeave = await committedTotal(broker.brokers, 'reb', 'reb.in');
    await b.run.stop();
    await waitFor(
      async () => (await committedTotal(broker.brokers, 'reb', 'reb.in')) >= N,
      180_000,
      'all committed',
      300,
    );
    await a.run.stop();
    const r = await missingKeys('reb.out', N);
    console.log(
      `rebalance: A acked=${a.source.stats.acked} (joins=${a.source.stats.rebalances}) B acked=${b.source.stats.acked} committed-when-B-left=${committedBeforeLeave} outputs=${r.outputs} missing=${r.missing} duplicates=${r.duplicates}`,
    );
    expect(b.source.stats.acked).toBeGreaterThan(0);
    expect(committedBeforeLeave).toBeLessThan(N);
    expect(r.missing).toBe(0);
  }, 300_000);
});

describe.runIf(process.env.KAFKA_BROKERS === undefined)(
  'broker faults injected through the mock cluster',
  () => {
    it('broker down/up, Produce and Fetch request errors, coordinator moved: zero lost, processing resumes', async () => {
      const mock = broker.mock!;
      const N = 20_000;
      await broker.createTopic('fault.in', 6);
      await broker.createTopic('fault.out', 6);
      await produceRange(broker.brokers, 'fault.in', 0, N);
      const m = member('fault.in', 'fault.out', 'fault', 'fault-member', 1);
      const progress = async (what: string): Promise<void> => {
        const before = m.source.stats.acked;
        await waitFor(
          () => m.source.stats.acked > before + 500 || m.source.stats.acked >= N,
          90_000,
          `progress after ${what}`,
        );
      };
      await waitFor(() => m.source.stats.acked > 1000, 60_000, 'first progress');
      mock.pushRequestErrors(ApiKey.Produce, [
        KafkaErr.NOT_LEADER_FOR_PARTITION,
        KafkaErr.REQUEST_TIMED_OUT,
        KafkaErr.NOT_ENOUGH_REPLICAS,
      ]);
      await progress('Produce errors');
      mock.pushRequestErrors(ApiKey.Fetch, [KafkaErr.NOT_LEADER_FOR_PARTITION, KafkaErr.REQUEST_TIMED_OUT]);
      await progress('Fetch errors');
      mock.setCoordinator('group', 'fault', 3);
      await progress('coordinator move');
      mock.setBrokerDown(2);
      await new Promise((r) => setTimeout(r, 2000));
      mock.setBrokerUp(2);
      await progress('broker 2 down then up');
      await waitFor(
        async () => (await committedTotal(broker.brokers, 'fault', 'fault.in')) >= N,
        240_000,
        'all committed',
        500,
      );
      await m.run.stop();
      const r = await missingKeys('fault.out', N);
      console.log(
        `faults: acked=${m.source.stats.acked} sink retries=${m.sink.stats.retries} group joins=${m.source.stats.rebalances} outputs=${r.outputs} missing=${r.missing} duplicates=${r.duplicates}`,
      );
      expect(r.missing).toBe(0);
    }, 420_000);
  },
);
