// Sentences/s of the whole ner-tagging topology on files (PubTator file source -> validate -> split ->
// tokenize -> batched NER -> document-level stage -> NerPrediction -> JSONL file sink) over the 500 CDR
// dev abstracts, against the NER operator alone (tagEntities, same bundle and batching) on the same
// sentences handed over pre-split and pre-tokenized. Both load the bundle inside the timing (the
// topology loads it on its first batch), so the ratio is the cost of everything around the model.
// Args: --reps N (3, best of N, runs interleaved since the machine is shared) --max-batch N (32)
// --document on|off (on: the topology's default document stage) --worker on|off (the NER session on a
// worker thread, in both; default: the operator's default, on)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { AckToken, envelope } from '../src/engine/envelope.ts';
import { runTopology } from '../src/engine/runner.ts';
import type { Sink, Source } from '../src/engine/types.ts';
import { dataPath, projectRoot } from '../src/io/dataPath.ts';
import { openSink, openSource } from '../src/io/files/index.ts';
import { backend, batching } from '../src/models/modelStepConfig.ts';
import { tagEntities } from '../src/models/ner/tagEntities.ts';
import { parsePubtator } from '../src/text/pubtator.ts';
import { articleSentences } from '../src/text/splitSentences.ts';
import { styleFor, tokenize } from '../src/text/tokenize.ts';
import { build, NerTaggingConfig } from '../topologies/ner-tagging.ts';

/** Wall seconds and CPU seconds (all threads, ORT's included) of `fn`. */
async function measured(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

export default async function main(args: string[]): Promise<void> {
  const reps = Number(arg(args, 'reps', '3'));
  const maxBatch = Number(arg(args, 'max-batch', '32'));
  const documentStage = arg(args, 'document', 'on') === 'on';
  const worker = arg(args, 'worker', 'default');
  const data = dataPath('pubtator', 'cdr_dev.pubtator');
  const model = join(projectRoot, 'models', 'ner-bc5cdr');
  const config = NerTaggingConfig.parse({
    ner: { model, maxBatch, ...(worker === 'default' ? {} : { worker: worker === 'on' }) },
    ...(documentStage
      ? {}
      : {
          document: {
            abbreviations: { enabled: false },
            consistency: { enabled: false },
            brackets: { enabled: false },
          },
        }),
  });

  // The sentences the topology tags: its splitter and tokenizer with its defaults.
  const docs = parsePubtator(readFileSync(data, 'utf8'));
  const sentences = docs.flatMap((d) =>
    articleSentences(d).map((s) =>
      tokenize(s.text, { style: styleFor(config.tokenizerStyle) }).map((t) => t.text),
    ),
  );

  const out = mkdtempSync(join(tmpdir(), 'bench-ner-tagging-'));
  let predictions = 0;
  const topology = async (): Promise<{ wall: number; cpu: number }> => {
    const path = join(out, 'predictions.jsonl');
    const source = openSource(`pubtator:${data}`, { id: 'abstracts', maxInFlight: 256 });
    const sink = openSink(`jsonl:${path}`, { id: 'predictions' });
    const m = await measured(async () => {
      await runTopology({
        sources: { abstracts: source as Source<unknown> },
        sinks: { predictions: sink as Sink<unknown> },
        build: (so, si) => build(so, si, config),
        config: {},
        handleSignals: false,
      }).done;
    });
    predictions = readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
    rmSync(path);
    return m;
  };
  const operator = async (): Promise<{ wall: number; cpu: number }> => {
    const envs = sentences.map((tokens, i) =>
      envelope(
        { tokens },
        { key: null, origin: { kind: 'memory', source: 'bench', index: i }, ack: AckToken.noop() },
      ),
    );
    let n = 0;
    const m = await measured(async () => {
      const res = await lastValueFrom(
        from(envs).pipe(
          tagEntities({
            stepId: 'bench-ner',
            model,
            taggerOptions: { stepId: 'bench-ner', backend: backend(config.ner) },
            ...batching(config.ner),
          }),
          toArray(),
        ),
      );
      n = res.length;
    });
    if (n !== sentences.length) throw new Error(`operator returned ${n} of ${sentences.length} sentences`);
    return m;
  };

  // Warm-up (file cache, JIT), then interleaved runs; the best of each counts (wall and CPU apart).
  await operator();
  await topology();
  const best = { top: Infinity, op: Infinity, topCpu: Infinity, opCpu: Infinity };
  for (let r = 0; r < reps; r++) {
    const t = await topology();
    const o = await operator();
    best.top = Math.min(best.top, t.wall);
    best.topCpu = Math.min(best.topCpu, t.cpu);
    best.op = Math.min(best.op, o.wall);
    best.opCpu = Math.min(best.opCpu, o.cpu);
  }
  const top = sentences.length / best.top;
  const op = sentences.length / best.op;
  rmSync(out, { recursive: true, force: true });
  if (predictions !== sentences.length)
    throw new Error(`topology wrote ${predictions} records for ${sentences.length} sentences`);

  console.log(
    JSON.stringify({
      bench: 'ner-tagging',
      model: 'models/ner-bc5cdr',
      abstracts: docs.length,
      sentences: sentences.length,
      document_stage: documentStage,
      worker: config.ner.worker ?? 'default (on)',
      maxBatch: config.ner.maxBatch,
      reps,
      topology_sentences_per_s: Number(top.toFixed(1)),
      topology_abstracts_per_s: Number(((top * docs.length) / sentences.length).toFixed(1)),
      operator_sentences_per_s: Number(op.toFixed(1)),
      baseline:
        'the NER operator alone (tagEntities, same bundle and batching, bundle load included) on the same pre-split, pre-tokenized sentences',
      ratio: Number((top / op).toFixed(3)),
      // On a shared machine wall time swings with other load; CPU time (all threads) much less.
      topology_cpu_s: Number(best.topCpu.toFixed(2)),
      operator_cpu_s: Number(best.opCpu.toFixed(2)),
      cpu_ratio: Number((best.opCpu / best.topCpu).toFixed(3)),
    }),
  );
}
