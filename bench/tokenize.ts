// Tokenizer agreement benchmark on the five NER dev sets (CoNLL files hold tokens, not raw text).
//
// For every dev sentence the gold tokens are turned back into text two ways and re-tokenized with
// the style of that corpus; a sentence counts as exact when the token sequence equals the gold one.
// - `spaced`: tokens joined by single spaces (tests that the tokenizer never splits a gold token).
// - `human`:  tokens joined with the spacing of written text, `joinTokens(tokens, 'human')`: no
//             space before , . ; : ) ] % 's, none after ( [ (also tests that it splits them off).
// Baseline in the same run: a whitespace + punctuation regex tokenizer (\w+|[^\w\s]), the usual
// quick fix. `--errors <file>` writes the first mismatches per corpus.
import { readFileSync, writeFileSync } from 'node:fs';
import { dataPath } from '../src/io/dataPath.ts';
import { parseConll } from '../src/text/conll.ts';
import { CORPUS_STYLES, joinTokens, tokenize } from '../src/text/tokenize.ts';

const CORPORA = Object.keys(CORPUS_STYLES) as Array<keyof typeof CORPUS_STYLES>;

function regexBaseline(text: string): string[] {
  return text.match(/\w+|[^\w\s]/gu) ?? [];
}

function same(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function round(x: number, d = 5): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

/** Runs the benchmark; the last stdout line is one JSON object. */
export default async function run(args: string[]): Promise<void> {
  const errIdx = args.indexOf('--errors');
  const errFile = errIdx >= 0 ? args[errIdx + 1] : undefined;
  const errors: string[] = [];
  const perCorpus: Record<string, unknown> = {};
  let total = 0;
  let okSpaced = 0;
  let okHuman = 0;
  let baseSpaced = 0;
  let baseHuman = 0;
  let tokens = 0;
  let secs = 0;
  let minHuman = 1;
  for (const corpus of CORPORA) {
    const sents = parseConll(readFileSync(dataPath('ner', corpus, 'dev.conll'), 'utf8'), {
      source: `${corpus}/dev.conll`,
      validateTags: false,
    });
    const style = CORPUS_STYLES[corpus];
    const spaced = sents.map((s) => joinTokens(s.tokens, 'space'));
    const human = sents.map((s) => joinTokens(s.tokens, 'human'));
    let cs = 0;
    let ch = 0;
    let bs = 0;
    let bh = 0;
    let shown = 0;
    const t0 = process.hrtime.bigint();
    const outS = spaced.map((t) => tokenize(t, { style }).map((x) => x.text));
    const outH = human.map((t) => tokenize(t, { style }).map((x) => x.text));
    secs += Number(process.hrtime.bigint() - t0) / 1e9;
    for (let i = 0; i < sents.length; i++) {
      const gold = sents[i]!.tokens;
      tokens += 2 * gold.length;
      if (same(outS[i]!, gold)) cs++;
      else if (shown++ < 40) errors.push(`${corpus} spaced: ${diff(gold, outS[i]!)}`);
      if (same(outH[i]!, gold)) ch++;
      else if (shown++ < 80) errors.push(`${corpus} human: ${human[i]}\n    ${diff(gold, outH[i]!)}`);
      if (same(regexBaseline(spaced[i]!), gold)) bs++;
      if (same(regexBaseline(human[i]!), gold)) bh++;
    }
    const n = sents.length;
    perCorpus[corpus] = {
      style,
      sentences: n,
      exact_spaced: round(cs / n),
      exact_human: round(ch / n),
      baseline_spaced: round(bs / n),
      baseline_human: round(bh / n),
    };
    minHuman = Math.min(minHuman, ch / n);
    console.log(
      `${corpus.padEnd(7)} (${style}): ${n} sentences, exact spaced ${((100 * cs) / n).toFixed(2)}%, human ${((100 * ch) / n).toFixed(2)}%` +
        ` | regex baseline ${((100 * bs) / n).toFixed(2)}% / ${((100 * bh) / n).toFixed(2)}%`,
    );
    total += n;
    okSpaced += cs;
    okHuman += ch;
    baseSpaced += bs;
    baseHuman += bh;
  }
  if (errFile) writeFileSync(errFile, errors.join('\n') + '\n');
  const tokensPerS = Math.round(tokens / secs);
  console.log(`overall: ${total} sentences, ${tokensPerS} tokens/s`);
  console.log(
    JSON.stringify({
      bench: 'tokenize',
      corpora: perCorpus,
      ours: {
        exact_spaced: round(okSpaced / total),
        exact_human: round(okHuman / total),
        min_exact_human: round(minHuman),
        tokens_per_s: tokensPerS,
      },
      baseline: {
        name: 'regex \\w+|[^\\w\\s]',
        exact_spaced: round(baseSpaced / total),
        exact_human: round(baseHuman / total),
      },
      ratio: round(okHuman / Math.max(1, baseHuman), 4),
    }),
  );
}

function diff(gold: string[], got: string[]): string {
  let i = 0;
  while (i < gold.length && gold[i] === got[i]) i++;
  return `at ${i}: gold [${gold.slice(i, i + 5).join(' | ')}] got [${got.slice(i, i + 5).join(' | ')}]`;
}
