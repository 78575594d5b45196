// What every topology shares: the type its build() returns, the error of a miswired or invalid input,
// and the lookups of its named streams and sinks.
import { Observable } from 'rxjs';
import type { Envelope } from './envelope.ts';
import { StreamError } from './errors.ts';
import { TopologyGraph, type GraphDescription } from './graph.ts';
import type { SinkMap, SourceStreams } from './runner.ts';
import type { Sink } from './types.ts';

/**
 * What a topology's `build()` returns: one stream of the envelopes its sinks have written (all its
 * outputs merged). The runner subscribes to it and counts what passes; one type for every topology
 * so the CLI, the tests and the benchmarks run them alike.
 */
export type TopologyOutput = Observable<Envelope<unknown>>;

/**
 * Names of the source streams and sinks a topology's `build(sources, sinks, inputs)` takes (what
 * `bioaug-stream run` wires from --source / --sink), and the record each sink writes.
 */
export interface TopologyStreamNames {
  sources: readonly string[];
  sinks: readonly string[];
  /** The Avro record each sink writes (schemas/<Name>.avsc), so a Kafka sink needs no ?schema=. */
  sinkSchemas?: Readonly<Record<string, string>>;
}

/**
 * A topology module: `resolve` reads what the config names (state files, model.json contents) into
 * plain inputs, and `build` wires named src operators over them without touching files.
 */
export interface TopologyModule<I = unknown> {
  streamNames: TopologyStreamNames;
  /** The topology's config schema (zod): defaults and validation of `topologies.<name>.*`. */
  configSchema?: { parse(config: unknown): unknown };
  resolve(config: unknown): Promise<I>;
  build(sources: SourceStreams, sinks: SinkMap, inputs: I): TopologyOutput;
}

/**
 * The input error of a step: a record it cannot process (it goes to the dead letters), or a state
 * file, resource or wiring it cannot use. Names the step; not retriable (the input is wrong). The
 * one class for what augmenters, validators and topologies refuse.
 */
export class TopologyInputError extends StreamError {
  constructor(
    override readonly step: string,
    message: string,
    hint?: string,
  ) {
    super(`${step}: ${message}`, { stage: 'input', step, ...(hint !== undefined ? { hint } : {}) });
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

/**
 * The graph a topology's build() wires (src/engine/graph.ts), over stand-in sources that never emit
 * and sinks that write nothing: nothing is subscribed, so no record flows and no model loads.
 */
export function graphOf<I>(
  mod: Pick<TopologyModule<I>, 'streamNames' | 'build'>,
  inputs: I,
): GraphDescription {
  const graph = new TopologyGraph();
  const sources: SourceStreams = {};
  for (const name of mod.streamNames.sources)
    sources[name] = graph.source(name, new Observable<Envelope<unknown>>());
  const sinks: SinkMap = {};
  for (const name of mod.streamNames.sinks)
    sinks[name] = { id: name, write: () => (s) => s, close: () => Promise.resolve() } satisfies Sink<unknown>;
  mod.build(sources, graph.sinks(sinks), inputs);
  return graph.describe();
}
