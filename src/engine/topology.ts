// What every topology shares: the type its build() returns, the error of a miswired or invalid input,
// and the lookups of its named streams and sinks.
import type { Observable } from 'rxjs';
import type { Envelope } from './envelope.ts';
import type { SinkMap, SourceStreams } from './runner.ts';
import type { Sink } from './types.ts';

/**
 * What a topology's `build()` returns: one stream of the envelopes its sinks have written (all its
 * outputs merged). The runner subscribes to it and counts what passes; one type for every topology
 * so the CLI, the tests and the benchmarks run them alike.
 */
export type TopologyOutput = Observable<Envelope<unknown>>;

/** Names of the streams and sinks a topology uses (what `bioaug-stream run` wires from flags). */
export interface TopologyIo {
  sources: readonly string[];
  sinks: readonly string[];
}

/**
 * A topology module: `resolve` reads what the config names (state files, model.json contents) into
 * plain inputs, and `build` wires named src operators over them without touching files.
 */
export interface TopologyModule<I = unknown> {
  io: TopologyIo;
  resolve(config: unknown): Promise<I>;
  build(sources: SourceStreams, sinks: SinkMap, inputs: I): TopologyOutput;
}

/** A typed input error of a topology or one of its steps: the record goes to the dead letters. */
export class TopologyInputError extends Error {
  readonly retriable = false;
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'TopologyInputError';
  }
}

/** The named stream a topology needs; the error lists the streams it was given. */
export function requireStream<T>(
  sources: SourceStreams,
  name: string,
  topology: string,
): Observable<Envelope<T>> {
  const s = sources[name];
  if (!s)
    throw new TopologyInputError(
      topology,
      `needs a source named "${name}"; given: ${Object.keys(sources).join(', ') || '(none)'}`,
    );
  return s as Observable<Envelope<T>>;
}

/** The named sink a topology needs; the error lists the sinks it was given. */
export function requireSink<T>(sinks: SinkMap, name: string, topology: string): Sink<T> {
  const s = sinks[name];
  if (!s)
    throw new TopologyInputError(
      topology,
      `needs a sink named "${name}"; given: ${Object.keys(sinks).join(', ') || '(none)'}`,
    );
  return s as Sink<T>;
}
