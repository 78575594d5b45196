// Small topologies used by the Kafka tests, the crash worker and the benchmark.
import { merge, type Observable } from 'rxjs';
import type { Envelope } from '../../src/engine/envelope.ts';
import type { SinkMap, SourceStreams } from '../../src/engine/runner.ts';
import { flatMapStep, mapStep } from '../../src/engine/step.ts';

export type Rec = { id: number; body: string };

export const decodeJson = (raw: Buffer): Rec => JSON.parse(raw.toString('utf8')) as Rec;
export const encodeJson = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** in -> out unchanged. */
export function identity(sources: SourceStreams, sinks: SinkMap): Observable<unknown> {
  return (sources.in as Observable<Envelope<Rec>>).pipe(sinks.out!.write() as never);
}

/** in -> 3 children per record keyed `k<id>:<i>` -> out. */
export function fanOut(sources: SourceStreams, sinks: SinkMap): Observable<unknown> {
  return (sources.in as Observable<Envelope<Rec>>).pipe(
    flatMapStep('fan-out', (r: Rec) => [0, 1, 2].map((i) => ({ id: r.id, child: i }))),
    sinks.out!.write() as never,
  );
}

/** Identity with an operator that throws on ids divisible by `poison` (dead letters). */
export function poisoned(poison: number) {
  return (sources: SourceStreams, sinks: SinkMap): Observable<unknown> =>
    merge(
      (sources.in as Observable<Envelope<Rec>>).pipe(
        mapStep('poison-check', (r: Rec) => {
          if (r.id % poison === 0) throw new Error(`poison record ${r.id}`);
          return r;
        }),
        sinks.out!.write() as never,
      ),
    );
}
