// Test setup shared by the test files: temporary folders removed after the file, a Kafka broker
// started before and stopped after the file, envelopes for driving operators, a topology run over
// in-memory sources and sinks, the sample abstracts, and CoNLL slices.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { MemoryDeadLetters } from '../../src/engine/deadLetters.ts';
import { AckToken, envelope, type Envelope, type Settlement } from '../../src/engine/envelope.ts';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology, type SinkMap, type SourceStreams } from '../../src/engine/runner.ts';
import type { TopologyOutput } from '../../src/engine/topology.ts';
import type { PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../src/io/dataPath.ts';
import { parsePubtator, pubtatorToArticle } from '../../src/text/pubtator.ts';
import { startTestBroker, type TestBroker } from './kafkaBroker.ts';

/**
 * A fresh folder under the OS temp dir, removed after the test file (or the describe block it is
 * called in). Call it at file or describe level, not inside a test.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A Kafka broker (startTestBroker) started before the file's tests, `setup` run on it (topics, data),
 * and stopped after them. The returned object reads through to the started broker.
 */
export function useTestBroker(setup?: (broker: TestBroker) => Promise<void>): TestBroker {
  let started: TestBroker | undefined;
  const get = (): TestBroker => {
    if (!started) throw new Error('useTestBroker: the broker is used before beforeAll started it');
    return started;
  };
  beforeAll(async () => {
    started = await startTestBroker();
    await setup?.(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return {
    get brokers() {
      return get().brokers;
    },
    get mock() {
      return get().mock;
    },
    createTopic: (name, partitions, replication) => get().createTopic(name, partitions, replication),
    stop: () => get().stop(),
  };
}

export interface EnvelopesOptions<T> {
  /** The key of each envelope (default `k<index>`). */
  keyOf?: (value: T, index: number) => string;
  /** Settlements by input position (acked, nacked, ...), as each envelope's ack settles. */
  settled?: Settlement[];
  /** Called as each envelope's ack settles, in settlement order (instead of or beside `settled`). */
  onSettle?: (settlement: Settlement, index: number) => void;
}

/** Envelopes of in-memory values (origin `memory`), each with its own root ack token. */
export function envelopes<T>(values: T[], opts: EnvelopesOptions<T> = {}): Envelope<T>[] {
  const keyOf = opts.keyOf ?? ((_v: T, i: number) => `k${i}`);
  return values.map((v, i) =>
    envelope(v, {
      key: keyOf(v, i),
      origin: { kind: 'memory', source: 'm', index: i },
      ack: AckToken.root((s) => {
        if (opts.settled) opts.settled[i] = s;
        opts.onSettle?.(s, i);
      }),
    }),
  );
}

/** What runInMemory gives back: every sink's records, the dead letters, the source (acked records). */
export interface InMemoryRun<T, O extends Record<string, unknown>> {
  sinks: { [K in keyof O]: MemorySink<O[K]> };
  deadLetters: MemoryDeadLetters;
  source: MemorySource<T>;
}

/**
 * Runs a topology's build over one in-memory source of `records` and in-memory sinks named `sinks`,
 * until the source is drained and every record settled.
 */
export async function runInMemory<T, O extends Record<string, unknown>>(opts: {
  source: string;
  records: T[];
  keyOf: (value: T) => string;
  sinks: readonly (keyof O & string)[];
  build: (sources: SourceStreams, sinks: SinkMap) => TopologyOutput;
  maxInFlight?: number;
}): Promise<InMemoryRun<T, O>> {
  const deadLetters = new MemoryDeadLetters();
  const source = new MemorySource<T>(opts.source, opts.records, {
    ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
    deadLetters,
    keyOf: (v) => opts.keyOf(v as T),
  });
  const sinks = Object.fromEntries(opts.sinks.map((n) => [n, new MemorySink<unknown>(n)])) as {
    [K in keyof O]: MemorySink<O[K]>;
  };
  await runTopology({
    sources: { [opts.source]: source },
    sinks,
    build: opts.build,
    config: {},
    handleSignals: false,
  }).done;
  return { sinks, deadLetters, source };
}

/** The sample abstracts shipped with the topologies (topologies/samples/abstracts.pubtator), no gold. */
export function sampleArticles(): PubmedArticle[] {
  return parsePubtator(
    readFileSync(resolve(projectRoot, 'topologies/samples/abstracts.pubtator'), 'utf8'),
  ).map((d) => pubtatorToArticle(d, { gold: false }));
}

/**
 * Writes the first n sentences (blank-line separated) of a CoNLL file to dst; returns dst. `crlf`
 * writes them as files in the wild may be: CRLF line ends and runs of blank lines.
 */
export function sliceConll(src: string, n: number, dst: string, opts: { crlf?: boolean } = {}): string {
  const text = readFileSync(src, 'utf8').replace(/\r/g, '');
  const sents = text
    .split(/\n\s*\n/)
    .filter((s) => s.trim() !== '')
    .slice(0, n);
  mkdirSync(dirname(dst), { recursive: true });
  writeFileSync(
    dst,
    opts.crlf ? sents.join('\n\n\n').replace(/\n/g, '\r\n') + '\r\n' : sents.join('\n\n') + '\n',
  );
  return dst;
}

/** A bundle folder in a temp dir whose model.json holds only `provenance` (what bundleSawData reads). */
export function bundleWithProvenance(provenance: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-prov-'));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ task: 'x', provenance }));
  return dir;
}
