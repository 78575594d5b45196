// Messages/s through the engine's identity topology over the librdkafka mock broker, against a bare
// kafkajs consume-then-produce loop on the same broker and the same input in the same run.
// `ratio` compares like for like (both write each record's key, value and headers as read);
// `ratio_trace_header` is the engine with the sink's default per-record `trace-id` header, which
// costs kafkajs one more header encoding per record (and the broker more bytes).
import { Partitioners } from 'kafkajs';
import { startMockCluster } from '../src/io/kafka/mockCluster.ts';
import { createKafka, parseBrokers } from '../src/io/kafka/client.ts';
import { KafkaSource } from '../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../src/io/kafka/kafkaSink.ts';
import { runTopology } from '../src/engine/runner.ts';
import type { Envelope } from '../src/engine/envelope.ts';
import { tap, type Observable } from 'rxjs';
import { startBenchConsole, wantsConsole, type BenchConsole } from './helpers/console.ts';

// --console: the engine runs with the live console's page open in a browser (issue 16 cost check).
let live: BenchConsole | undefined;

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`kafka-identity: --${name} must be a positive number`);
  return v;
}

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50);

async function produceInput(brokers: string[], topic: string, n: number): Promise<void> {
  const p = createKafka({ brokers, clientId: 'bench-producer' }).producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await p.connect();
  const body = 'x'.repeat(200);
  for (let i = 0; i < n; i += 5000) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 5000); j++)
      messages.push({ key: `pmid-${j}`, value: JSON.stringify({ id: j, body }) });
    await p.send({ topic, acks: -1, messages });
  }
  await p.disconnect();
}

/** The engine: KafkaSource -> identity -> KafkaSink; seconds from first record to last ack. */
async function engine(
  brokers: string[],
  n: number,
  out: string,
  round: string,
  traceHeader: boolean,
): Promise<number> {
  const batchSize = Number(process.env.B_BATCH ?? 1000);
  const sends = Number(process.env.B_SENDS ?? 4);
  const source = new KafkaSource<Buffer>({
    brokers,
    topics: ['bench.in'],
    groupId: `bench-engine-${round}`,
    // The credit window matches what the sink can have on the wire (batchSize x concurrent sends):
    // a deeper window only keeps more records alive (GC work) without sending any sooner.
    maxInFlight: Number(process.env.B_INFLIGHT ?? batchSize * sends),
    partitionsConsumedConcurrently: Number(process.env.B_PCC ?? 1),
    ...(process.env.B_PAUSE_GRACE ? { pauseGraceMs: Number(process.env.B_PAUSE_GRACE) } : {}),
    decode: (raw) => raw,
  });
  const sink = new KafkaSink<Buffer>({
    brokers,
    topic: out,
    encode: (v) => v,
    batchSize,
    maxConcurrentSends: sends,
    lingerMs: Number(process.env.B_LINGER ?? 5),
    traceHeader,
  });
  live?.setRecordsIn(() => source.stats.consumed);
  let first = 0;
  const run = runTopology({
    sources: { in: source },
    sinks: { out: sink },
    build: (s) => {
      const written = (s.in as Observable<Envelope<Buffer>>).pipe(sink.write());
      return live ? written.pipe(tap((e) => live!.observe(e.value))) : written;
    },
    config: {},
    handleSignals: false,
  });
  const dbg = process.env.B_DEBUG
    ? setInterval(
        () =>
          console.log(
            `t=${((performance.now() - first) / 1000).toFixed(1)} consumed=${source.stats.consumed} acked=${source.stats.acked} sent=${sink.stats.sent} batches=${sink.stats.batches} retries=${sink.stats.retries}`,
          ),
        250,
      )
    : null;
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (first === 0 && source.stats.consumed > 0) first = performance.now();
      if (source.stats.acked >= n) {
        clearInterval(t);
        resolve();
      }
    }, 1);
  });
  const secs = (performance.now() - first) / 1000;
  if (dbg) clearInterval(dbg);
  await run.stop();
  return secs;
}

/** The baseline: kafkajs eachBatch -> producer.send(acks=all) -> commit, no engine. */
async function bare(brokers: string[], n: number, out: string, round: number): Promise<number> {
  const kafka = createKafka({ brokers, clientId: 'bench-bare' });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: `bench-bare-${round}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: 'bench.in', fromBeginning: true });
  let done = 0;
  let first = 0;
  let end = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        await producer.send({
          topic: out,
          acks: -1,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        });
        const last = batch.messages[batch.messages.length - 1];
        if (last)
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
          ]);
        done += batch.messages.length;
        if (done >= n && end === 0) {
          end = performance.now();
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  await producer.disconnect();
  return (end - first) / 1000;
}

/** Runs the benchmark; prints one JSON line last. */
export default async function main(args: string[]): Promise<void> {
  const n = arg(args, 'messages', 100_000);
  const external = parseBrokers(process.env.KAFKA_BROKERS);
  const mock = external.length === 0 ? startMockCluster(3) : null;
  const brokers = mock ? mock.brokers : external;
  if (!mock) throw new Error('kafka-identity: runs on the mock cluster only (topics are created through it)');
  // Enough partitions that the mock's per-partition segment cap never deletes input or output.
  mock.createTopic('bench.in', 16, 3);
  mock.createTopic('bench.out.engine', 16, 3);
  mock.createTopic('bench.out.bare', 16, 3);
  await produceInput(brokers, 'bench.in', n);
  console.log(`produced ${n} messages of ~230 bytes to bench.in (16 partitions, 3 mock brokers)`);
  if (wantsConsole(args)) {
    live = await startBenchConsole('kafka-identity');
    console.log(`console open (${live.viewer}) during the engine runs`);
  }
  // The 2-core CI box is shared: interleave the two loops over several rounds and compare medians.
  const rounds = arg(args, 'rounds', 5);
  // Two engine runs per round: like for like (the records the bare loop writes: key, value, input
  // headers), and with the sink's default `trace-id` header, which adds one header per record.
  const bareRates: number[] = [];
  const engineRates: number[] = [];
  const traceRates: number[] = [];
  const cpuS = (c: NodeJS.CpuUsage): string => ((c.user + c.system) / 1e6).toFixed(2);
  for (let r = 0; r < rounds; r++) {
    let cpu = process.cpuUsage();
    const bareSecs = await bare(brokers, n, 'bench.out.bare', r);
    const bareCpu = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const engineSecs = await engine(brokers, n, 'bench.out.engine', `${r}`, false);
    const engineCpu = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const traceSecs = await engine(brokers, n, 'bench.out.engine', `${r}-trace`, true);
    const traceCpu = process.cpuUsage(cpu);
    console.log(
      `round ${r} cpu (user+system, includes the in-process mock broker): bare ${cpuS(bareCpu)} s, engine ${cpuS(engineCpu)} s, engine + trace-id header ${cpuS(traceCpu)} s`,
    );
    bareRates.push(n / bareSecs);
    engineRates.push(n / engineSecs);
    traceRates.push(n / traceSecs);
    console.log(
      `round ${r}: bare ${bareSecs.toFixed(2)} s, engine ${engineSecs.toFixed(2)} s, engine + trace-id header ${traceSecs.toFixed(2)} s`,
    );
  }
  clearInterval(rssTimer);
  await live?.close();
  mock.destroy();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const engineRate = median(engineRates);
  const bareRate = median(bareRates);
  const traceRate = median(traceRates);
  console.log(
    JSON.stringify({
      bench: 'kafka-identity',
      messages: n,
      rounds,
      console: live ? live.viewer : 'off',
      engine_msgs_per_s: Math.round(engineRate),
      bare_msgs_per_s: Math.round(bareRate),
      ratio: Number((engineRate / bareRate).toFixed(3)),
      engine_trace_header_msgs_per_s: Math.round(traceRate),
      ratio_trace_header: Number((traceRate / bareRate).toFixed(3)),
      peak_rss_mb: Math.round(peakRss / 1048576),
    }),
  );
  process.exit(0);
}
