import { describe, expect, it } from 'vitest';
import type { Observable } from 'rxjs';
import {
  committedOffsets,
  committedTotal,
  produceRange,
  readAll,
  topicSize,
  waitFor,
} from '../helpers/kafkaData.ts';
import { decodeJson, encodeJson, type Rec } from '../helpers/topologies.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { runTopology } from '../../src/engine/runner.ts';
import { mapStep } from '../../src/engine/step.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { useTestBroker } from '../helpers/setup.ts';

const N = 50_000;
const MAX_IN_FLIGHT = 200;
const broker = useTestBroker(async (broker) => {
  // 16 partitions keep each under the mock's per-partition retention (a few MB).
  await broker.createTopic('bp.in', 16);
  await broker.createTopic('bp.out', 8);
  // ~500-byte abstracts (25 MB queued) so an unbounded prefetch would show in RSS.
  await produceRange(broker.brokers, 'bp.in', 0, N, { body: 'a'.repeat(500) });
});

describe('backpressure under a flood', () => {
  it(`a 50 ms/item operator keeps in-flight <= ${MAX_IN_FLIGHT} and RSS bounded over ${N} queued messages`, async () => {
    const rss0 = process.memoryUsage.rss();
    const source = new KafkaSource<Rec>({
      brokers: broker.brokers,
      topics: ['bp.in'],
      groupId: 'bp',
      maxInFlight: MAX_IN_FLIGHT,
      decode: decodeJson,
    });
    const sink = new KafkaSink<Rec>({ brokers: broker.brokers, topic: 'bp.out', encode: encodeJson });
    let operatorActive = 0;
    let operatorPeak = 0;
    const run = runTopology({
      sources: { in: source },
      sinks: { out: sink },
      build: (s) =>
        (s.in as Observable<Envelope<Rec>>).pipe(
          mapStep(
            'slow-model',
            async (r: Rec) => {
              operatorActive++;
              operatorPeak = Math.max(operatorPeak, operatorActive);
              await new Promise((res) => setTimeout(res, 50));
              operatorActive--;
              return r;
            },
            { concurrency: 32 },
          ),
          sink.write(),
        ),
      config: {},
      handleSignals: false,
    });
    let peakInFlight = 0;
    let peakRss = rss0;
    let pausedSamples = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      samples++;
      peakInFlight = Math.max(peakInFlight, source.gate.current);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (source.gate.isPaused) pausedSamples++;
    }, 10);
    await waitFor(() => source.stats.consumed > 0, 60_000, 'first record');
    await new Promise((r) => setTimeout(r, 12_000));
    await run.stop();
    clearInterval(sampler);
    // Throws if the broker's retention deleted input (which would make offsets jump).
    expect(await topicSize(broker.brokers, 'bp.in')).toBe(N);
    const committed = await committedTotal(broker.brokers, 'bp', 'bp.in');
    const out = await readAll(broker.brokers, 'bp.out');
    const keys = new Set(out.map((r) => r.key));
    console.log(
      `backpressure: maxInFlight=${MAX_IN_FLIGHT} peak in-flight (sampled)=${peakInFlight} gate peak=${source.gate.peakInFlight} ` +
        `operator peak concurrency=${operatorPeak} consumed=${source.stats.consumed} acked=${source.stats.acked} committed=${committed} ` +
        `paused ${pausedSamples}/${samples} samples; RSS start=${(rss0 / 1048576).toFixed(0)} MB peak=${(peakRss / 1048576).toFixed(0)} MB ` +
        `(+${((peakRss - rss0) / 1048576).toFixed(0)} MB) while ${N - committed} messages stayed queued`,
    );
    expect(source.gate.peakInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(peakInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(pausedSamples).toBeGreaterThan(0);
    // Everything consumed was drained and committed on stop; the rest waits in Kafka, not in memory.
    expect(source.stats.acked).toBe(source.stats.consumed);
    expect(committed).toBe(source.stats.acked);
    expect(committed).toBeLessThan(N);
    // Every input record below its partition's committed offset reached the output.
    expect(committed).toBeGreaterThan(MAX_IN_FLIGHT);
    const offsets = await committedOffsets(broker.brokers, 'bp', 'bp.in');
    const input = await readAll(broker.brokers, 'bp.in');
    const committedInputs = input.filter((r) => Number(r.offset) < (offsets.get(r.partition) ?? 0));
    expect(committedInputs.length).toBe(committed);
    expect(committedInputs.filter((r) => !keys.has(r.key)).map((r) => r.key)).toEqual([]);
    expect(peakRss - rss0).toBeLessThan(256 * 1048576);
  }, 180_000);
});
