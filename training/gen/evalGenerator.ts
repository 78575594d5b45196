// Dev evaluation of a generator bundle through the engine itself: the TypeScript runtime samples
// (createGenerator, top-k), the BioAug de-lineariser checks every output. Figures as in BioAug's Table 2.
// Usage: node --import tsx training/gen/evalGenerator.ts --model models/generator \
//          --pairs ncbi=dev-pairs.jsonl --pairs bc5cdr=... [--per-dataset 100 --n 5 --top-k 10 --seed 1]
//          [--constrain: entity-constrained decoding, as `bioaug.constrainEntities`]
// Special tokens other than EOS and label tokens are blocked, as in the augment topology.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { delinearize, type ExpectedEntity } from '../../src/augment/bioaug/delinearize.ts';
import { LabelVocabulary } from '../../src/augment/bioaug/labels.ts';
import { createRng } from '../../src/engine/rng.ts';
import { createGenerator } from '../../src/models/seq2seq/generator.ts';
import { bioToSpans } from '../../src/text/bio.ts';
import { entitySpanIds } from '../../src/models/seq2seq/generateFromCorruptions.ts';

interface Pair {
  input: string;
  target: string;
}

/** Figures for one corpus. */
export interface GenEvalFigures {
  inputs: number;
  outputs: number;
  /** % of outputs that de-linearize to well-formed tokens + BIO tags. */
  validShare: number;
  /** % of valid outputs that also reproduce the source's gold entities exactly. */
  entityKeptShare: number;
  /** Mean over valid outputs of the % of generated words absent from the source sentence. */
  newTokenShare: number;
  /** Mean over valid outputs of |generated words - source words|. */
  meanAbsLenDiff: number;
  invalidReasons: Record<string, number>;
  sentencesPerSecond: number;
  examples: { input: string; output: string }[];
  /** A few rejected outputs with the reason. */
  invalidExamples: { output: string; reason: string; detail: string }[];
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const rng = createRng(seed);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Samples n outputs per dev input and scores validity and diversity. */
export async function evalGenerator(
  model: string,
  specs: { name: string; file: string }[],
  o: { perDataset: number; n: number; topK: number; seed: number; batch: number; constrain?: boolean },
): Promise<Record<string, GenEvalFigures>> {
  const gen = await createGenerator(model, { stepId: 'eval-generator' });
  const res: Record<string, GenEvalFigures> = {};
  try {
    for (const { name, file } of specs) {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      const pairs = shuffle(
        lines.map((l, i) => {
          try {
            return JSON.parse(l) as Pair;
          } catch (e) {
            throw new Error(`eval-generator: ${file}:${i + 1}: not JSON (${(e as Error).message})`, {
              cause: e,
            });
          }
        }),
        o.seed,
      )
        .filter((p) => p.input.includes('<mask>'))
        .slice(0, o.perDataset);
      const types = new Set<string>();
      for (const p of pairs) for (const m of p.target.matchAll(/<[bi]-([^<>\s]+)>/g)) types.add(m[1]!);
      const vocab = new LabelVocabulary(types);
      let valid = 0;
      let kept = 0;
      let outputs = 0;
      const newShare: number[] = [];
      const lenDiff: number[] = [];
      const reasons: Record<string, number> = {};
      const examples: { input: string; output: string }[] = [];
      const invalidExamples: { output: string; reason: string; detail: string }[] = [];
      const t0 = performance.now();
      for (let k = 0; k < pairs.length; k += o.batch) {
        const chunk = pairs.slice(k, k + o.batch);
        const sources = chunk.map((p) => {
          const src = delinearize(p.target, vocab);
          if (!src.ok)
            throw new Error(`eval-generator: ${file}: target does not de-linearize: ${src.detail}`);
          const expected: ExpectedEntity[] = bioToSpans(src.tags).map((s) => ({
            type: s.type,
            tokens: src.tokens.slice(s.start, s.end),
          }));
          return { src, expected };
        });
        const outs = await gen.generate(
          chunk.map((p) => p.input),
          {
            strategy: 'sample',
            topK: o.topK,
            numReturnSequences: o.n,
            seed: o.seed + k,
            maxNewTokens: 160,
            allowedLabelTokensOnly: true,
            ...(o.constrain ? { requiredSpans: sources.map((x) => entitySpanIds(gen, x.expected)) } : {}),
          },
        );
        chunk.forEach((p, i) => {
          const { src, expected } = sources[i]!;
          const srcWords = new Set(src.tokens);
          for (const g of outs[i] ?? []) {
            outputs++;
            const d = delinearize(g.text, vocab);
            if (!d.ok) {
              reasons[d.reason] = (reasons[d.reason] ?? 0) + 1;
              if (invalidExamples.length < 3)
                invalidExamples.push({ output: g.text, reason: d.reason, detail: d.detail });
              continue;
            }
            valid++;
            if (delinearize(g.text, vocab, { expected }).ok) kept++;
            newShare.push(d.tokens.filter((w) => !srcWords.has(w)).length / d.tokens.length);
            lenDiff.push(Math.abs(d.tokens.length - src.tokens.length));
            if (examples.length < 3) examples.push({ input: p.input, output: g.text });
          }
        });
      }
      const secs = (performance.now() - t0) / 1000;
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
      res[name] = {
        inputs: pairs.length,
        outputs,
        validShare: +((100 * valid) / Math.max(outputs, 1)).toFixed(1),
        entityKeptShare: +((100 * kept) / Math.max(valid, 1)).toFixed(1),
        newTokenShare: +(100 * mean(newShare)).toFixed(1),
        meanAbsLenDiff: +mean(lenDiff).toFixed(2),
        invalidReasons: reasons,
        sentencesPerSecond: +(pairs.length / secs).toFixed(2),
        examples,
        invalidExamples,
      };
      process.stderr.write(`eval-generator: ${name}: ${JSON.stringify(res[name])}\n`);
    }
  } finally {
    await gen.dispose();
  }
  return res;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/generator' },
      pairs: { type: 'string', multiple: true },
      'per-dataset': { type: 'string', default: '100' },
      n: { type: 'string', default: '5' },
      'top-k': { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      batch: { type: 'string', default: '8' },
      constrain: { type: 'boolean', default: false },
    },
  });
  if (!v.pairs?.length)
    throw new Error('eval-generator: give --pairs <dataset>=<dev pairs JSONL> (one or more)');
  const specs = v.pairs.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw new Error(`eval-generator: --pairs ${s}: expected <dataset>=<file>`);
    return { name: s.slice(0, i), file: s.slice(i + 1) };
  });
  const res = await evalGenerator(v.model!, specs, {
    perDataset: Number(v['per-dataset']),
    n: Number(v.n),
    topK: Number(v['top-k']),
    seed: Number(v.seed),
    batch: Number(v.batch),
    constrain: v.constrain,
  });
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1]?.endsWith('evalGenerator.ts')) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
