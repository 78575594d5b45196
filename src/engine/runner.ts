import { merge, type Observable } from 'rxjs';
import type { Envelope } from './envelope.ts';
import { setLatestGraph, TopologyGraph } from './graph.ts';
import type { DeadLetterWriter, Sink, Source, SourceHealth } from './types.ts';
import { logger } from '../obs/logger.ts';

/** Named input streams handed to a topology's build function. */
export type SourceStreams = Record<string, Observable<Envelope<unknown>>>;
/** Named sinks handed to a topology's build function (each sink fixes its own value type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SinkMap = Record<string, Sink<any>>;

/**
 * A topology: pure wiring from source streams to sink writes. It returns the stream(s) of written
 * envelopes (the output of `sink.write()`); the runner subscribes to them.
 */
export type BuildFn<C = unknown> = (
  sources: SourceStreams,
  sinks: SinkMap,
  config: C,
) => Observable<unknown> | Array<Observable<unknown>>;

/** What `runTopology` needs. */
export interface RunOptions<C = unknown> {
  sources: Record<string, Source<unknown>>;
  sinks: SinkMap;
  build: BuildFn<C>;
  config: C;
  deadLetters?: DeadLetterWriter;
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /**
   * After SIGINT/SIGTERM, the process exits (code 1) if the graceful stop has not finished within
   * this long, whatever is stuck (default 50 s: under the grace periods of deploy/). A second
   * signal exits at once. Only with handleSignals.
   */
  shutdownTimeoutMs?: number;
  /** Exits the process on a hard shutdown (injectable for tests; default process.exit). */
  exit?: (code: number) => void;
}

/** Default of RunOptions.shutdownTimeoutMs. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 50_000;

/** Counts of one run. */
export interface RunResult {
  outputs: number;
  stoppedBy: 'end' | 'signal' | 'stop';
}

/** A running topology. */
export interface RunningTopology {
  done: Promise<RunResult>;
  /** Stops fetching, drains in-flight work, flushes sinks and commits; resolves when finished. */
  stop(): Promise<RunResult>;
  /** Ready when every source says so (/readyz); the first not-ready source's reason otherwise. */
  health(): SourceHealth;
  /** The topology's steps and the edges between them, sources and sinks, as build() wired them. */
  graph: TopologyGraph;
}

/** Builds and runs a topology until its sources end or `stop()` (or a signal) is called. */
export function runTopology<C>(opts: RunOptions<C>): RunningTopology {
  const graph = new TopologyGraph();
  setLatestGraph(graph);
  const streams: SourceStreams = {};
  for (const [name, src] of Object.entries(opts.sources)) streams[name] = graph.source(name, src.open());
  const built = opts.build(streams, graph.sinks(opts.sinks), opts.config);
  const out = Array.isArray(built) ? merge(...built) : built;
  let outputs = 0;
  let stoppedBy: RunResult['stoppedBy'] = 'end';
  let stopping: Promise<unknown> | null = null;

  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const hardMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let signalled = false;
  let hardTimer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      logger.error({ signal: sig }, 'second signal: exiting now without finishing the shutdown');
      return exit(1);
    }
    signalled = true;
    logger.info(
      { signal: sig, shutdownTimeoutMs: hardMs },
      'signal received: stopping (drain, flush, commit)',
    );
    stoppedBy = 'signal';
    // Whatever is stuck (a drain, a producer flush, a dead letter that cannot be written), the
    // process ends within the hard timeout; unacknowledged records are read again after a restart.
    hardTimer = setTimeout(() => {
      logger.error(
        { shutdownTimeoutMs: hardMs },
        `shutdown did not finish within ${hardMs} ms: exiting (uncommitted records will be read again)`,
      );
      exit(1);
    }, hardMs);
    hardTimer.unref();
    void stopSources();
  };
  const signals = opts.handleSignals ?? true;
  if (signals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const stopSources = (): Promise<unknown> => {
    stopping ??= Promise.all(Object.values(opts.sources).map((s) => s.stop()));
    return stopping;
  };

  const closeAll = async (): Promise<void> => {
    if (signals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    // The hard timer (after a signal) is never cleared: a sink flush, or the command's own cleanup
    // after the run, can hang too. It is unref'd, so a process that is done exits without it.
    await Promise.allSettled(Object.values(opts.sinks).map((s) => s.close()));
    if (opts.deadLetters) await opts.deadLetters.close().catch(() => undefined);
  };

  const done = new Promise<RunResult>((resolve, reject) => {
    out.subscribe({
      next: () => {
        outputs += 1;
      },
      error: (e: unknown) => {
        logger.error({ err: e }, 'topology failed');
        void stopSources()
          .catch(() => undefined)
          .then(closeAll)
          .then(() => reject(e as Error));
      },
      complete: () => {
        void closeAll().then(() => resolve({ outputs, stoppedBy }));
      },
    });
  });

  return {
    done,
    graph,
    stop: async () => {
      if (stoppedBy === 'end') stoppedBy = 'stop';
      await stopSources();
      return done;
    },
    health: () => {
      for (const src of Object.values(opts.sources)) {
        const h = src.health?.();
        if (h && !h.ready) return h;
      }
      return { ready: true };
    },
  };
}
