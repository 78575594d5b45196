// The action of `bioaug-stream demo` (options in demo.ts): runs the ingest topology over the sample
// abstracts into JSONL files under out/, with the live console, and prints a summary.
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tap } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { runTopology } from '../../engine/runner.ts';
import type { Sink } from '../../engine/types.ts';
import type {
  AugmentedSentence,
  NerPrediction,
  PubmedArticle,
  RelationTriple,
  TrainingPair,
} from '../../io/avro/types.generated.ts';
import { projectRoot } from '../../io/dataPath.ts';
import { openDeadLetterWriter, openSink, openSource } from '../../io/files/index.ts';
import type { LiveConsole } from '../../console/liveConsole.ts';
import { startObservabilityServer, type ObservabilityServer } from '../../obs/server.ts';
import { createConsole, mountConsole, type MountedConsole } from '../consoleWiring.ts';
import { build as buildIngest, resolve as resolveIngest } from '../../../topologies/ingest.ts';
import type { DemoFlags } from './demo.ts';

/** Counts gathered while the demo runs. */
export interface DemoSummary {
  abstracts: number;
  deadLetters: number;
  sentences: number;
  entities: Record<string, number>;
  /** Entities normalized to a MeSH id (not -1). */
  concepts: number;
  /** CID relation records, and the first few as text. */
  relations: number;
  relationExamples: string[];
  augmented: { total: number; valid: number };
  trainingPairs: number;
  seconds: number;
  outputs: Record<string, string>;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  input: string;
  out: string;
  models?: string;
  n?: number;
  seed?: number;
  /** The live console to feed (outputs, dead letters); the caller mounts and closes it. */
  live?: LiveConsole;
}

/** Runs ingest over a PubTator file into JSONL files and returns what happened. */
export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const models = o.models ?? join(projectRoot, 'models');
  const bundles = ['ner-bc5cdr', 'keywords', 'relations', 'generator', 'normalize-cdr', 'cid-relations'];
  for (const m of bundles)
    if (!existsSync(join(models, m)))
      throw new Error(`demo: model bundle ${join(models, m)} is missing; bundles: ${bundles.join(', ')}`);
  mkdirSync(o.out, { recursive: true });
  const outputs = {
    predictions: join(o.out, 'ner.predictions.jsonl'),
    relations: join(o.out, 'relations.jsonl'),
    augmented: join(o.out, 'augmented.sentences.jsonl'),
    pairs: join(o.out, 'training.pairs.jsonl'),
    deadLetters: join(o.out, 'dead-letters.jsonl'),
  };
  const fileDeadLetters = openDeadLetterWriter(`jsonl:${outputs.deadLetters}`);
  const deadLetters = o.live ? o.live.deadLetters(fileDeadLetters) : fileDeadLetters;
  const source = openSource<PubmedArticle>(`pubtator:${o.input}`, {
    id: 'abstracts',
    maxInFlight: 64,
    deadLetters,
  });
  const s: DemoSummary = {
    abstracts: 0,
    deadLetters: 0,
    sentences: 0,
    entities: {},
    concepts: 0,
    relations: 0,
    relationExamples: [],
    augmented: { total: 0, valid: 0 },
    trainingPairs: 0,
    seconds: 0,
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([k, v]) => [k, relative(process.cwd(), v) || v]),
    ),
  };
  // Counting sinks: the file sink writes, the tap counts what was written (acked).
  const counted = <T>(sink: Sink<T>, count: (v: T) => void): Sink<T> => ({
    id: sink.id,
    write: () => (src) =>
      src.pipe(
        sink.write(),
        tap((e: Envelope<T>) => {
          count(e.value);
          o.live?.observe(e.value);
        }),
      ),
    close: () => sink.close(),
  });
  const sinks = {
    predictions: counted(openSink<NerPrediction>(`jsonl:${outputs.predictions}`), (p) => {
      s.sentences++;
      for (const e of p.entities) {
        s.entities[e.type] = (s.entities[e.type] ?? 0) + 1;
        if (e.conceptId && e.conceptId !== '-1') s.concepts++;
      }
    }),
    relations: counted(openSink<RelationTriple>(`jsonl:${outputs.relations}`), (r) => {
      s.relations++;
      if (s.relationExamples.length < 3)
        s.relationExamples.push(
          `${r.sourceId}: ${r.head.text} [${r.head.conceptId ?? '?'}] ${r.relation} ${r.tail.text} [${r.tail.conceptId ?? '?'}] p=${r.probability.toFixed(2)}`,
        );
    }),
    augmented: counted(openSink<AugmentedSentence>(`jsonl:${outputs.augmented}`), (a) => {
      s.augmented.total++;
      if (a.valid) s.augmented.valid++;
    }),
    pairs: counted(openSink<TrainingPair>(`jsonl:${outputs.pairs}`), () => s.trainingPairs++),
  };
  const inputs = await resolveIngest({
    ner: { model: join(models, 'ner-bc5cdr') },
    keywords: { model: join(models, 'keywords') },
    relations: { model: join(models, 'relations') },
    normalize: { model: join(models, 'normalize-cdr') },
    cid: { model: join(models, 'cid-relations') },
    bioaug: { generator: { model: join(models, 'generator') }, n: o.n ?? 2, seed: o.seed ?? 1 },
  });
  o.live?.attach({
    recordsIn: () => source.stats.emitted,
    sources: ['abstracts'],
    sinks: Object.keys(sinks),
  });
  const t0 = performance.now();
  await runTopology({
    sources: { abstracts: source },
    sinks: sinks as never,
    deadLetters,
    build: (src, snk) => buildIngest(src, snk, inputs),
    config: {},
  }).done;
  s.seconds = (performance.now() - t0) / 1000;
  s.abstracts = source.stats.acked;
  s.deadLetters = source.stats.failed;
  return s;
}

/** The summary as a few lines of text. */
export function formatSummary(s: DemoSummary): string {
  const ents = Object.entries(s.entities)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  const rate = (n: number) => (s.seconds > 0 ? (n / s.seconds).toFixed(1) : '0');
  return [
    `ingest on files: ${s.abstracts} abstracts (${s.deadLetters} dead-lettered), ${s.sentences} sentences in ${s.seconds.toFixed(1)} s`,
    `  entities:    ${ents || 'none'} (${s.concepts} normalized to MeSH)`,
    `  relations:   ${s.relations} chemical-induced disease (CID)`,
    ...s.relationExamples.map((x) => `    ${x}`),
    `  augmented:   ${s.augmented.total} sentences (${s.augmented.valid} valid after de-linearization)`,
    `  train pairs: ${s.trainingPairs}`,
    `  throughput:  ${rate(s.abstracts)} abstracts/s, ${rate(s.sentences)} sentences/s`,
    'outputs:',
    ...Object.entries(s.outputs).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
  ].join('\n');
}

/** Runs the demo with `demo`'s parsed options; an error prints one line, exit code 2. */
export async function demoAction(opts: DemoFlags): Promise<void> {
  let server: ObservabilityServer | undefined;
  let mounted: MountedConsole | undefined;
  try {
    if (opts.console) {
      server = await startConsoleServer(Number(opts.consolePort));
      mounted = mountConsole(createConsole({ topology: 'ingest (demo)', recordsIn: () => 0 }), server);
    }
    const s = await runDemo({
      input: resolve(opts.input),
      out: resolve(opts.out),
      models: resolve(opts.models),
      n: Number(opts.n),
      seed: Number(opts.seed),
      ...(mounted ? { live: mounted.live } : {}),
    });
    process.stdout.write((opts.json ? JSON.stringify(s) : formatSummary(s)) + '\n');
    if (mounted && opts.keepOpen) {
      // One last sample, so the page shows the final counts while it stays open.
      await mounted.live.sample();
      process.stderr.write(`console: ${mounted.url} stays open; press Ctrl-C to stop\n`);
      await new Promise((r) => process.once('SIGINT', r));
    }
  } catch (e) {
    process.stderr.write(`bioaug-stream demo: ${(e as Error).message}\n`);
    process.exitCode = 2;
  } finally {
    mounted?.close();
    await server?.close();
  }
}

/** The console's server on 127.0.0.1: `port`, or any free port when that one is taken. */
async function startConsoleServer(port: number): Promise<ObservabilityServer> {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535))
    throw new Error(`--console-port must be an integer in 0..65535, got ${port}`);
  try {
    return await startObservabilityServer({ port, host: '127.0.0.1' });
  } catch (e) {
    // A second demo, or a worker on the default metrics port: the demo still gets its page.
    if (port === 0 || !/EADDRINUSE/.test((e as Error).message)) throw e;
    return startObservabilityServer({ port: 0, host: '127.0.0.1' });
  }
}
