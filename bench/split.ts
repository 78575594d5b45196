// Sentence-boundary benchmark on GENIA dev (hand-split MEDLINE abstracts), ours beside npm `sbd`.
//
// Scoring: every sentence contributes one boundary, the pair (pmid, end) where `end` is its end
// offset into title + " " + abstract after trimming whitespace. Precision/recall/F1 are over the
// set of predicted vs gold pairs. Both splitters get the same document handling: the title is one
// sentence, the abstract is split by the splitter. Title ends and abstract ends are trivially
// right for both, so `internal` repeats the scores without them (boundaries inside abstracts).
// `--errors <file>` writes every disagreement with context.
import { readFileSync, writeFileSync } from 'node:fs';
import sbd from 'sbd';
import { prf, type Prf } from '../src/eval/documentF1.ts';
import { dataPath } from '../src/io/dataPath.ts';
import { parseConll } from '../src/text/conll.ts';
import { parsePubtator, pubtatorText, type PubtatorDoc } from '../src/text/pubtator.ts';
import { splitArticle, type SentenceSpan } from '../src/text/sentences.ts';

/** Boundary scores: the eval module's Prf, with precision/recall/F1 as fractions (0-1, 5 decimals). */
function score(pred: Set<string>, gold: Set<string>): Prf {
  let tp = 0;
  for (const p of pred) if (gold.has(p)) tp++;
  const s = prf(tp, pred.size - tp, gold.size - tp);
  return { ...s, precision: round(s.precision / 100), recall: round(s.recall / 100), f1: round(s.f1 / 100) };
}

function round(x: number, d = 5): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

/** Maps sbd's sentence strings back to offsets in `text` (sbd may drop or normalise whitespace). */
function locate(text: string, sentences: string[]): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  let cursor = 0;
  for (const raw of sentences) {
    const s = raw.trim();
    if (!s) continue;
    // Walk both strings, skipping whitespace, so normalised spacing still aligns.
    let i = cursor;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    const start = i;
    let j = 0;
    while (j < s.length && i < text.length) {
      if (/\s/.test(s[j]!)) {
        j++;
        continue;
      }
      if (/\s/.test(text[i]!)) {
        i++;
        continue;
      }
      if (s[j] !== text[i])
        throw new Error(`bench split: cannot align sbd output "${s.slice(0, 40)}" at ${i}`);
      i++;
      j++;
    }
    out.push({ start, end: i, text: text.slice(start, i) });
    cursor = i;
  }
  return out;
}

function sbdArticle(doc: PubtatorDoc): SentenceSpan[] {
  const off = doc.title.length + 1;
  const spans: SentenceSpan[] = [{ start: 0, end: doc.title.trimEnd().length, text: doc.title }];
  const sents = sbd.sentences(doc.abstract, { preserve_whitespace: true }) as string[];
  for (const s of locate(doc.abstract, sents))
    spans.push({ start: s.start + off, end: s.end + off, text: s.text });
  return spans;
}

/** Runs the benchmark; the last stdout line is one JSON object. */
export default async function run(args: string[]): Promise<void> {
  const errIdx = args.indexOf('--errors');
  const errFile = errIdx >= 0 ? args[errIdx + 1] : undefined;
  const docs = parsePubtator(readFileSync(dataPath('sentences/genia_dev.pubtator'), 'utf8'));
  const gold = new Set<string>();
  const goldInternal = new Set<string>();
  const trivial = new Set<string>();
  for (const d of docs) {
    trivial.add(`${d.pmid}:${d.title.length}`);
    trivial.add(`${d.pmid}:${d.title.length + 1 + d.abstract.trimEnd().length}`);
  }
  for (const line of readFileSync(dataPath('sentences/genia_dev.gold.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const g = JSON.parse(line) as { pmid: string; end: number };
    const k = `${g.pmid}:${g.end}`;
    gold.add(k);
    if (!trivial.has(k)) goldInternal.add(k);
  }

  const measure = (
    fn: (d: PubtatorDoc) => SentenceSpan[],
  ): { pred: Set<string>; spans: Map<string, SentenceSpan[]>; perS: number } => {
    const pred = new Set<string>();
    const spans = new Map<string, SentenceSpan[]>();
    let n = 0;
    const reps = 3;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) {
      for (const d of docs) {
        const s = fn(d);
        n += s.length;
        if (r === 0) {
          spans.set(d.pmid, s);
          for (const x of s) pred.add(`${d.pmid}:${x.end}`);
        }
      }
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    return { pred, spans, perS: Math.round(n / secs) };
  };

  const ours = measure((d) => splitArticle(d));
  const base = measure(sbdArticle);
  const internal = (s: Set<string>): Set<string> => new Set([...s].filter((k) => !trivial.has(k)));
  const oursScore = score(ours.pred, gold);
  const baseScore = score(base.pred, gold);
  const oursInt = score(internal(ours.pred), goldInternal);
  const baseInt = score(internal(base.pred), goldInternal);

  if (errFile) {
    const lines: string[] = [];
    for (const d of docs) {
      const text = `${d.title} ${d.abstract}`;
      for (const s of ours.spans.get(d.pmid) ?? []) {
        const k = `${d.pmid}:${s.end}`;
        if (!gold.has(k)) lines.push(`FP ${k}\t${ctx(text, s.end)}`);
      }
      for (const k of gold) {
        if (!k.startsWith(`${d.pmid}:`) || ours.pred.has(k)) continue;
        const end = Number(k.slice(d.pmid.length + 1));
        lines.push(`FN ${k}\t${ctx(text, end)}`);
      }
    }
    writeFileSync(errFile, lines.join('\n') + '\n');
  }

  const cdr = compareCdr(errFile ? `${errFile}.cdr` : undefined);

  console.log(`GENIA dev: ${docs.length} abstracts, ${gold.size} gold sentences`);
  console.log(
    `ours: P ${oursScore.precision} R ${oursScore.recall} F1 ${oursScore.f1} (internal F1 ${oursInt.f1}), ${ours.perS} sentences/s`,
  );
  console.log(
    `CDR dev vs bc5cdr/dev.conll sentence ends (not gold): agree ${cdr.agree}, only ours ${cdr.only_ours}, only conll ${cdr.only_conll} (${cdr.only_conll_inside_number} of them inside a number)`,
  );
  console.log(
    `sbd:  P ${baseScore.precision} R ${baseScore.recall} F1 ${baseScore.f1} (internal F1 ${baseInt.f1}), ${base.perS} sentences/s`,
  );
  console.log(
    JSON.stringify({
      bench: 'split',
      data: 'sentences/genia_dev',
      scoring: 'set of (pmid, trimmed sentence end offset); title is one sentence for both',
      ours: { ...oursScore, internal: oursInt, sentences_per_s: ours.perS },
      baseline: { name: 'sbd', ...baseScore, internal: baseInt, sentences_per_s: base.perS },
      ratio: round(oursScore.f1 / baseScore.f1, 4),
      cdr_vs_bc5cdr_conll: cdr,
    }),
  );
}

function ctx(text: string, at: number): string {
  return `${text.slice(Math.max(0, at - 50), at)}|${text.slice(at, at + 40)}`.replace(/\n/g, ' ');
}

/**
 * Splits the 500 CDR dev abstracts and compares the sentence ends with those of bc5cdr/dev.conll
 * (the same abstracts, tokenized and split by another tool). Not a gold standard: that corpus
 * splits inside decimals ("47." / "9%"), counted apart as `only_conll_inside_number`.
 */
function compareCdr(errFile?: string): {
  agree: number;
  only_ours: number;
  only_conll: number;
  only_conll_inside_number: number;
  conll_sentences_unaligned: number;
  conll_ends_skipped: number;
  ours_not_compared: number;
} {
  const docs = parsePubtator(readFileSync(dataPath('pubtator/cdr_dev.pubtator'), 'utf8'));
  const sents = parseConll(readFileSync(dataPath('ner/bc5cdr/dev.conll'), 'utf8'), {
    source: 'bc5cdr/dev.conll',
    validateTags: false,
  });
  // Non-space characters of all documents in order, with their document and offset.
  const texts = docs.map(pubtatorText);
  const chars: string[] = [];
  const docOf: number[] = [];
  const offOf: number[] = [];
  texts.forEach((t, d) => {
    for (let i = 0; i < t.length; i++)
      if (!/\s/u.test(t[i]!)) {
        chars.push(t[i]!);
        docOf.push(d);
        offOf.push(i);
      }
  });
  // Locate each conll sentence in the character stream. Some conll sentences are cut short (text
  // dropped after them); their ends are not sentence ends of that tool, so only ends followed
  // directly by the next sentence (or by the end of a document) are compared.
  const stream = chars.join('');
  const spans: Array<[number, number]> = [];
  let cursor = 0;
  let unaligned = 0;
  for (const s of sents) {
    const str = s.tokens.join('').replace(/\s/gu, '');
    const at = stream.indexOf(str, cursor);
    if (at < 0 || at - cursor > 20_000) {
      unaligned++;
      continue;
    }
    spans.push([at, at + str.length]);
    cursor = at + str.length;
  }
  const conllEnds = new Set<string>();
  let skipped = 0;
  spans.forEach(([, end], i) => {
    const next = spans[i + 1];
    const docEnd = end === stream.length || docOf[end] !== docOf[end - 1];
    if ((next && next[0] === end) || docEnd) conllEnds.add(`${docOf[end - 1]}:${offOf[end - 1]! + 1}`);
    else skipped++;
  });
  // Our ends are compared only where conll has text (it drops some abstracts' last sentences).
  const covered = new Uint8Array(stream.length);
  for (const [a, b] of spans) covered.fill(1, a, b);
  const streamIdx = new Map<string, number>();
  docOf.forEach((d, i) => streamIdx.set(`${d}:${offOf[i]}`, i));
  const ours = new Set<string>();
  let oursUncovered = 0;
  docs.forEach((d, i) => {
    for (const s of splitArticle(d)) {
      const at = streamIdx.get(`${i}:${s.end - 1}`);
      if (at !== undefined && covered[at] && conllEndsCovered(at)) ours.add(`${i}:${s.end}`);
      else oursUncovered++;
    }
  });
  // An end is comparable when conll also has the character after it (or the document ends there).
  function conllEndsCovered(at: number): boolean {
    return at + 1 >= stream.length || docOf[at + 1] !== docOf[at] || covered[at + 1] === 1;
  }
  let agree = 0;
  const lines: string[] = [];
  for (const e of ours) {
    if (conllEnds.has(e)) agree++;
    else {
      const [d, off] = e.split(':').map(Number) as [number, number];
      lines.push(`only-ours ${docs[d]!.pmid}:${off}\t${ctx(texts[d]!, off)}`);
    }
  }
  let insideNumber = 0;
  for (const e of conllEnds) {
    if (ours.has(e)) continue;
    const [d, off] = e.split(':').map(Number) as [number, number];
    const t = texts[d]!;
    const inNum = /(?:\d|^|\s)\.$/.test(t.slice(0, off)) && /^\s*\d/.test(t.slice(off));
    if (inNum) insideNumber++;
    else lines.push(`only-conll ${docs[d]!.pmid}:${off}\t${ctx(t, off)}`);
  }
  if (errFile) writeFileSync(errFile, lines.join('\n') + '\n');
  return {
    agree,
    only_ours: ours.size - agree,
    only_conll: conllEnds.size - agree,
    only_conll_inside_number: insideNumber,
    conll_sentences_unaligned: unaligned,
    conll_ends_skipped: skipped,
    ours_not_compared: oursUncovered,
  };
}
