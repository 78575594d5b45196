// `npm run bench -- augment [--file path] [--seconds s]`: sentences/s of each augmenter on
// ner/bc5cdr/500/train.conll (one copy per sentence, p = 0.3, seeded).
//
// Baseline, measured in the same run: naive reference implementations of MR and LwTR written the
// way the published scripts do it (Dai & Adel's code: per draw, filter the whole mention list by
// type; per replaced token, `random.choices(tokens, weights)`, which rebuilds and scans the
// cumulative weights linearly), on the same rng. `ratio` = our LwTR sentences/s / naive LwTR
// sentences/s; `ratios` has MR too. SiS, SR, all4 and corrupt have no separate baseline (the
// naive form is the same algorithm) and report throughput only.
import { readFileSync } from 'node:fs';
import { applySimple, all4Method } from '../src/augment/all4.ts';
import { corruptSentence } from '../src/augment/bioaug/corrupt.ts';
import { attachKeywords, parseLabeled } from '../src/augment/corpus.ts';
import { buildAugmentState } from '../src/augment/state.ts';
import type { SentenceToAugment } from '../src/augment/types.ts';
import { loadSynonyms } from '../src/augment/wordnet.ts';
import { createRng, type Rng } from '../src/engine/rng.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { bioToSpans } from '../src/text/bio.ts';

const P = 0.3;

/** Naive MR: every draw filters the full (type, mention) list. */
function naiveMr(all: Array<{ type: string; tokens: string[] }>) {
  return (s: SentenceToAugment, rng: Rng) => {
    let tokens: string[] = [];
    let tags: string[] = [];
    let at = 0;
    for (const sp of bioToSpans(s.tags)) {
      tokens = tokens.concat(s.tokens.slice(at, sp.start));
      tags = tags.concat(s.tags.slice(at, sp.start));
      let mention = s.tokens.slice(sp.start, sp.end);
      if (rng.bernoulli(P)) {
        const same = all.filter((m) => m.type === sp.type);
        if (same.length > 0) mention = same[rng.int(same.length)]!.tokens;
      }
      tokens = tokens.concat(mention);
      tags = tags.concat(mention.map((_, k) => (k === 0 ? 'B-' : 'I-') + sp.type));
      at = sp.end;
    }
    return { tokens: tokens.concat(s.tokens.slice(at)), tags: tags.concat(s.tags.slice(at)) };
  };
}

/**
 * Naive LwTR: per replaced token, Python's `random.choices(tokens, weights)` way: the cumulative
 * weights of that label's distinct tokens are rebuilt and scanned linearly on every draw.
 */
function naiveLwtr(dist: Map<string, { tokens: string[]; counts: number[] }>) {
  return (s: SentenceToAugment, rng: Rng) => {
    const tokens = [...s.tokens];
    for (let i = 0; i < tokens.length; i++) {
      if (!rng.bernoulli(P)) continue;
      const d = dist.get(s.tags[i]!);
      if (!d) continue;
      const cum: number[] = [];
      let total = 0;
      for (const c of d.counts) cum.push((total += c));
      const x = rng.next() * total;
      tokens[i] = d.tokens[cum.findIndex((c) => c > x)]!;
    }
    return { tokens, tags: [...s.tags] };
  };
}

function measure(
  name: string,
  sents: SentenceToAugment[],
  fn: (s: SentenceToAugment, rng: Rng) => unknown,
  seconds: number,
): number {
  const root = createRng(1);
  for (const s of sents.slice(0, 200)) fn(s, root.fork(s.id)); // warm-up for the JIT
  let done = 0;
  const t0 = performance.now();
  let pass = 0;
  while (performance.now() - t0 < seconds * 1000 || done < sents.length) {
    for (const s of sents) fn(s, root.fork(`${pass}:${s.id}`));
    done += sents.length;
    pass++;
  }
  const rate = done / ((performance.now() - t0) / 1000);
  process.stdout.write(`${name.padEnd(14)} ${rate.toFixed(0).padStart(9)} sentences/s\n`);
  return rate;
}

/** Runs the benchmark; last stdout line is one JSON object. */
export default async function run(args: string[]): Promise<void> {
  const fileArg = args.indexOf('--file');
  const secArg = args.indexOf('--seconds');
  const file = fileArg >= 0 ? args[fileArg + 1]! : dataPath('ner', 'bc5cdr', '500', 'train.conll');
  const seconds = secArg >= 0 ? Number(args[secArg + 1]) : 1.5;
  const sents = parseLabeled(readFileSync(file, 'utf8'), file);
  const kwFile = dataPath('keywords', 'bc5cdr', '500', 'train.tsv');
  if (fileArg < 0) attachKeywords(sents, kwFile);
  let t = performance.now();
  const state = buildAugmentState(sents);
  const stateMs = performance.now() - t;
  t = performance.now();
  const synonyms = loadSynonyms();
  const wordnetMs = performance.now() - t;
  const ctx = { state, synonyms };
  process.stdout.write(
    `${sents.length} sentences from ${file}; state ${stateMs.toFixed(0)} ms, WordNet ${wordnetMs.toFixed(0)} ms\n`,
  );

  const ours: Record<string, number> = {};
  for (const m of ['mr', 'lwtr', 'sis', 'sr'] as const)
    ours[m] = measure(m, sents, (s, rng) => applySimple(m, s, ctx, P, rng), seconds);
  ours.all4 = measure('all4', sents, (s, rng) => applySimple(all4Method(s.id, 0), s, ctx, P, rng), seconds);
  if (sents.every((s) => s.keywords))
    ours.corrupt = measure('corrupt', sents, (s, rng) => corruptSentence(s, rng), seconds);

  const mentions = sents.flatMap((s) =>
    bioToSpans(s.tags).map((sp) => ({ type: sp.type, tokens: s.tokens.slice(sp.start, sp.end) })),
  );
  const dist = new Map(Object.entries(state.json.labelTokens));
  const baseline = {
    mr: measure('naive mr', sents, naiveMr(mentions), seconds),
    lwtr: measure('naive lwtr', sents, naiveLwtr(dist), seconds),
  };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(
    JSON.stringify({
      bench: 'augment',
      file,
      sentences: sents.length,
      p: P,
      unit: 'sentences/s',
      ours: Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, Math.round(v)])),
      baseline: { mr: Math.round(baseline.mr), lwtr: Math.round(baseline.lwtr) },
      baseline_kind:
        'naive MR (filter mention list per draw) and LwTR (cumulative weights rebuilt + linear scan per draw, like random.choices), same rng',
      ratio: r2(ours.lwtr! / baseline.lwtr),
      ratios: { mr: r2(ours.mr! / baseline.mr), lwtr: r2(ours.lwtr! / baseline.lwtr) },
      state_build_ms: Math.round(stateMs),
      wordnet_load_ms: Math.round(wordnetMs),
    }) + '\n',
  );
}
