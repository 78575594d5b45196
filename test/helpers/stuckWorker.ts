// A worker for the hard-shutdown test: KafkaSource(in) -> a step that never finishes a 'hold'
// record -> KafkaSink(out), with the runner's signal handling on. Prints `holding` once stuck.
import type { Observable } from 'rxjs';
import { mapStep } from '../../src/engine/step.ts';
import { runTopology } from '../../src/engine/runner.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { parseBrokers } from '../../src/io/kafka/client.ts';
import { decodeJson, encodeJson, type Rec } from './topologies.ts';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`stuckWorker: env ${k} is required`);
  return v;
};
const brokers = parseBrokers(env('WORKER_BROKERS'));
const source = new KafkaSource<Rec>({
  brokers,
  topics: [env('WORKER_IN')],
  groupId: `stuck-${env('WORKER_IN')}`,
  // Longer than the hard timeout: the drain alone would keep the process alive.
  drainTimeoutMs: 120_000,
  decode: decodeJson,
});
const sink = new KafkaSink<Rec>({ brokers, topic: env('WORKER_OUT'), encode: encodeJson });
const run = runTopology({
  sources: { in: source },
  sinks: { out: sink },
  build: (s) =>
    (s.in as Observable<Envelope<Rec>>).pipe(
      mapStep('stuck', async (r: Rec) => {
        if (r.body === 'hold') {
          process.stdout.write('holding\n');
          await new Promise<never>(() => undefined);
        }
        return r;
      }),
      sink.write(),
    ),
  config: {},
  shutdownTimeoutMs: Number(env('WORKER_SHUTDOWN_TIMEOUT_MS')),
});
await run.done;
process.stdout.write('stopped cleanly\n');
process.exit(0);
