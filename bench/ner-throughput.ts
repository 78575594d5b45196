// Sentences/s of the NER operator (tagEntities: dynamic batching + CRF decode) over the 5,330 BC5CDR dev
// sentences, against a bare loop of session.run on the same pre-tokenized, length-sorted batches (the limit
// for the model here), and against the operator at batch size 1.
// Args: --max-batch N (32) --concurrency N (the operator's default, 2) --bucket-width N (4) --reps N (5) --provider cpu|cuda|webgpu
// --threads N (0 = ORT default) --worker on|off (the tagger's session on a worker thread; default: the
// tagger's default, on) --console (the live console's page open in a browser meanwhile)
// --model <bundle>: the NER bundle measured (default models/ner-bc5cdr); --compare <bundle>: also the
// operator's sentences/s with another bundle on the same sentences in the same run (e.g. an ensemble from
// `npm run train -- ensemble` against the default), so the cost of a bundle's accuracy is visible.
import { from, identity, lastValueFrom, tap, toArray } from 'rxjs';
import { startBenchConsole, wantsConsole, type BenchConsole } from './helpers/console.ts';
import { AckToken, envelope } from '../src/engine/envelope.ts';
import { ModelSession, float32, int64, type Feeds, type Provider } from '../src/models/backend.ts';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../src/io/dataPath.ts';
import { bc5cdrDev, benchModel, timed } from './helpers/models.ts';
import { TAG_ENTITIES_CONCURRENCY, tagEntities } from '../src/models/ner/tagEntities.ts';
import { createTokenTagger, type TokenTagger } from '../src/models/ner/tokenTagger.ts';

// --console: the operator runs with the live console's page open and updating (issue 16 cost check).
let live: BenchConsole | undefined;

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

async function runOperator(
  tagger: TokenTagger,
  sents: string[][],
  maxBatch: number,
  concurrency: number | undefined,
  record?: string[][][],
  bucketWidth = 4,
): Promise<number> {
  // Records the batches the operator forms, so the bare loop can replay exactly those.
  const t: TokenTagger = record
    ? {
        ...tagger,
        bundle: tagger.bundle,
        labels: tagger.labels,
        predict: (b) => {
          record.push(b.map((x) => x.tokens));
          return tagger.predict(b);
        },
      }
    : tagger;
  const envs = sents.map((tokens, i) =>
    envelope(
      { tokens },
      { key: null, origin: { kind: 'memory', source: 'bench', index: i }, ack: AckToken.noop() },
    ),
  );
  let n = 0;
  const s = await timed(async () => {
    const out = await lastValueFrom(
      from(envs).pipe(
        tagEntities({
          stepId: 'bench-ner',
          tagger: t,
          maxBatch,
          maxWaitMs: 2,
          bucketWidth,
          ...(concurrency === undefined ? {} : { concurrency }),
        }),
        live ? tap((e) => live!.observe(e.value)) : identity,
        toArray(),
      ),
    );
    n = out.length;
  });
  if (n !== sents.length) throw new Error(`operator returned ${n} of ${sents.length} sentences`);
  return sents.length / s;
}

/** Feeds for a batch exactly as the tagger builds them (word ids, char ids, mask). */
function feedsFor(tagger: TokenTagger, batch: string[][]): Feeds {
  const b = tagger.bundle;
  const T = Math.max(...batch.map((s) => s.length));
  const R = batch.length;
  const C = b.chars?.maxWordLength ?? 0;
  const ids = new BigInt64Array(R * T);
  const chars = new BigInt64Array(R * T * C);
  const mask = new Float32Array(R * T);
  batch.forEach((s, r) =>
    s.forEach((w, t) => {
      ids[r * T + t] = b.words!.bigId(w);
      b.chars?.fill(w, chars, (r * T + t) * C);
      mask[r * T + t] = 1;
    }),
  );
  const feeds: Feeds = { [b.inputs.words!]: int64(ids, [R, T]), [b.inputs.mask!]: float32(mask, [R, T]) };
  if (b.inputs.chars) feeds[b.inputs.chars] = int64(chars, [R, T, C]);
  return feeds;
}

export default async function main(args: string[]): Promise<void> {
  const maxBatch = Number(arg(args, 'max-batch', '32'));
  const c = arg(args, 'concurrency', 'default');
  const concurrency = c === 'default' ? undefined : Number(c);
  const provider = arg(args, 'provider', 'cpu') as Provider;
  const threads = Number(arg(args, 'threads', '0'));
  const bucketWidth = Number(arg(args, 'bucket-width', '4'));
  const reps = Number(arg(args, 'reps', '5'));
  const sents = bc5cdrDev();
  const modelArg = arg(args, 'model', '');
  const model = modelArg
    ? { dir: modelArg, which: relative(projectRoot, modelArg) || modelArg }
    : benchModel('ner-bc5cdr', 'model.json', 'ner');
  const worker = arg(args, 'worker', 'default');
  const backend = {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    ...(worker === 'default' ? {} : { worker: worker === 'on' }),
  };
  const tagger = await createTokenTagger(model.dir, { stepId: 'bench-ner', backend });
  if (!tagger.bundle.words)
    throw new Error('ner-throughput expects a word-level (project layout) NER bundle');
  const longest = Math.max(...sents.map((s) => s.length));
  if (longest > tagger.bundle.maxLength)
    console.error(
      `note: ${sents.filter((s) => s.length > tagger.bundle.maxLength).length} sentences are windowed`,
    );

  if (wantsConsole(args)) {
    live = await startBenchConsole('ner-throughput');
    live.setRecordsIn(() => sents.length);
    console.error(`console open (${live.viewer}) during the runs`);
  }
  // Warm-up: one pass over a slice, so lazy allocations and caches do not land in the first timing.
  await runOperator(tagger, sents.slice(0, 256), maxBatch, concurrency, undefined, bucketWidth);

  // The operator's batches, recorded on a first pass; the bare loop replays exactly them with tensors built
  // beforehand. Runs alternate and the best of `reps` counts, since the machine is shared.
  const recorded: string[][][] = [];
  await runOperator(tagger, sents, maxBatch, concurrency, recorded, bucketWidth);
  const batches: Feeds[] = recorded.map((b) => feedsFor(tagger, b));
  const sorted = sents.slice().sort((a, b) => a.length - b.length);
  const sortedBatches: Feeds[] = [];
  for (let i = 0; i < sorted.length; i += maxBatch)
    sortedBatches.push(feedsFor(tagger, sorted.slice(i, i + maxBatch)));
  // The baseline is ORT itself: an in-thread session on the same file and options, whatever the tagger uses.
  // Same intra-op threads as the tagger's session, so the two compare like for like.
  const session = await ModelSession.open(tagger.bundle.session.path, {
    ...backend,
    worker: false,
    intraOpNumThreads: tagger.bundle.session.intraOpThreads,
  });
  const bareLoop = async (fs: Feeds[]): Promise<number> =>
    sents.length /
    (await timed(async () => {
      for (const f of fs) await session.run(f, 'bench-bare');
    }));
  let bare = 0;
  let op = 0;
  let bareSorted = 0;
  // CPU seconds (all threads: ORT's, the session worker's, JS) of each run, best of reps: on a shared
  // machine wall time swings with other load, CPU time much less.
  let bareCpu = Infinity;
  let opCpu = Infinity;
  const cpu = async (fn: () => Promise<number>): Promise<{ rate: number; cpu: number }> => {
    const c0 = process.cpuUsage();
    const rate = await fn();
    const c = process.cpuUsage(c0);
    return { rate, cpu: (c.user + c.system) / 1e6 };
  };
  for (let r = 0; r < reps; r++) {
    const b = await cpu(() => bareLoop(batches));
    const o = await cpu(() => runOperator(tagger, sents, maxBatch, concurrency, undefined, bucketWidth));
    bare = Math.max(bare, b.rate);
    op = Math.max(op, o.rate);
    bareCpu = Math.min(bareCpu, b.cpu);
    opCpu = Math.min(opCpu, o.cpu);
    bareSorted = Math.max(bareSorted, await bareLoop(sortedBatches));
  }
  const op1 = await runOperator(tagger, sents, 1, 1);
  await tagger.dispose();
  // The other bundle: the same operator settings and sentences, best of `reps` (after the main runs).
  const cmpArg = arg(args, 'compare', '');
  let compare: { model: string; operator_sentences_per_s: number } | undefined;
  if (cmpArg !== '' && !existsSync(join(cmpArg, 'model.json')))
    throw new Error(`ner-throughput: --compare ${cmpArg} is not a bundle (no model.json)`);
  if (cmpArg !== '') {
    const other = await createTokenTagger(cmpArg, { stepId: 'bench-ner-compare', backend });
    let rate = 0;
    await runOperator(other, sents.slice(0, 256), maxBatch, concurrency, undefined, bucketWidth);
    for (let r = 0; r < reps; r++)
      rate = Math.max(rate, await runOperator(other, sents, maxBatch, concurrency, undefined, bucketWidth));
    await other.dispose();
    compare = {
      model: relative(projectRoot, cmpArg) || cmpArg,
      operator_sentences_per_s: Number(rate.toFixed(1)),
    };
  }
  await session.dispose();
  await live?.close();

  const result = {
    bench: 'ner-throughput',
    model: model.which,
    provider: session.provider,
    sentences: sents.length,
    maxBatch,
    concurrency: concurrency ?? TAG_ENTITIES_CONCURRENCY,
    worker: tagger.bundle.session.onWorker,
    intra_op_threads: tagger.bundle.session.intraOpThreads || 'ORT default',
    console: live ? live.viewer : 'off',
    operator_sentences_per_s: Number(op.toFixed(1)),
    bare_session_run_sentences_per_s: Number(bare.toFixed(1)),
    operator_batch1_sentences_per_s: Number(op1.toFixed(1)),
    bare_sorted_batches_sentences_per_s: Number(bareSorted.toFixed(1)),
    mean_batch_size: Number((sents.length / recorded.length).toFixed(1)),
    baseline:
      'bare loop of session.run (in-thread ORT session) on the same pre-tokenized batches the operator formed',
    ratio: Number((op / bare).toFixed(3)),
    ratio_vs_batch1: Number((op / op1).toFixed(2)),
    bare_cpu_s: Number(bareCpu.toFixed(2)),
    operator_cpu_s: Number(opCpu.toFixed(2)),
    cpu_ratio: Number((bareCpu / opCpu).toFixed(3)),
    ...(compare
      ? { compare, speed_vs_compare: Number((op / compare.operator_sentences_per_s).toFixed(3)) }
      : {}),
  };
  console.log(JSON.stringify(result));
}
