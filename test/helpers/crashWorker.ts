// A worker process for the crash test: KafkaSource(in) -> async identity -> KafkaSink(out).
// Configured by env; prints `consumed <n>` lines so the parent can kill it mid-run.
import { mapStep } from '../../src/engine/step.ts';
import { runTopology } from '../../src/engine/runner.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { parseBrokers } from '../../src/io/kafka/client.ts';
import { decodeJson, encodeJson, type Rec } from './topologies.ts';
import type { Observable } from 'rxjs';
import type { Envelope } from '../../src/engine/envelope.ts';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`crashWorker: env ${k} is required`);
  return v;
};
const brokers = parseBrokers(env('WORKER_BROKERS'));
const delayMs = Number(process.env.WORKER_DELAY_MS ?? '1');

const source = new KafkaSource<Rec>({
  brokers,
  topics: [env('WORKER_IN')],
  groupId: env('WORKER_GROUP'),
  clientId: `worker-${process.pid}`,
  maxInFlight: Number(process.env.WORKER_MAX_IN_FLIGHT ?? '500'),
  commitIntervalMs: Number(process.env.WORKER_COMMIT_INTERVAL_MS ?? '200'),
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  decode: decodeJson,
});
const sink = new KafkaSink<Rec>({ brokers, topic: env('WORKER_OUT'), encode: encodeJson, lingerMs: 2 });
const run = runTopology({
  sources: { in: source },
  sinks: { out: sink },
  build: (s) =>
    (s.in as Observable<Envelope<Rec>>).pipe(
      mapStep(
        'slow-identity',
        async (r: Rec) => {
          await new Promise((res) => setTimeout(res, delayMs));
          return r;
        },
        { concurrency: 50 },
      ),
      sink.write(),
    ),
  config: {},
});
let last = -1;
const ticker = setInterval(() => {
  if (source.stats.consumed !== last) {
    last = source.stats.consumed;
    process.stdout.write(`consumed ${last} acked ${source.stats.acked}\n`);
  }
}, 50);
const result = await run.done;
clearInterval(ticker);
process.stdout.write(
  `stopped by ${result.stoppedBy} consumed ${source.stats.consumed} acked ${source.stats.acked}\n`,
);
process.exit(0);
