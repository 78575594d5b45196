import { bioToSpans, spansToBio } from '../../text/bio.ts';
import type { CrfParams } from '../bundle.ts';

/** One decoded entity over word indices [tokenStart, tokenEnd) with a confidence in [0, 1]. */
export interface WordSpan {
  tokenStart: number;
  tokenEnd: number;
  type: string;
  score: number;
}

/** BIO transition rule: I-X may only follow B-X or I-X (and may not start a sentence). */
export function bioAllowed(prev: string | null, next: string): boolean {
  if (!next.startsWith('I-')) return true;
  if (prev === null || prev === 'O' || prev.length < 2) return false;
  return prev.slice(2) === next.slice(2);
}

const constrainedCache = new WeakMap<CrfParams, { labels: readonly string[]; trans: Float64Array }>();

/** Transitions flattened [L*L] with BIO-forbidden moves at -Infinity (cached per CRF). */
function constrained(labels: readonly string[], crf: CrfParams): Float64Array {
  const hit = constrainedCache.get(crf);
  if (hit && hit.labels === labels) return hit.trans;
  const L = labels.length;
  const trans = new Float64Array(L * L);
  for (let i = 0; i < L; i++)
    for (let j = 0; j < L; j++)
      trans[i * L + j] = bioAllowed(labels[i] ?? 'O', labels[j] ?? 'O')
        ? (crf.transitions[i]?.[j] ?? 0)
        : -Infinity;
  constrainedCache.set(crf, { labels, trans });
  return trans;
}

/**
 * Viterbi over emissions [n, L] (row-major) with CRF transitions and BIO constraints; ties go to the lower
 * label index. Returns the best label index per token and the path score.
 */
export function viterbi(
  em: Float32Array,
  n: number,
  labels: readonly string[],
  crf: CrfParams,
): { path: number[]; score: number } {
  const L = labels.length;
  if (n === 0) return { path: [], score: 0 };
  const trans = constrained(labels, crf);
  let score = new Float64Array(L);
  let next = new Float64Array(L);
  for (let j = 0; j < L; j++)
    score[j] = bioAllowed(null, labels[j] ?? 'O') ? (crf.start[j] ?? 0) + (em[j] ?? 0) : -Infinity;
  const back = new Int32Array(n * L);
  for (let t = 1; t < n; t++) {
    for (let j = 0; j < L; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < L; i++) {
        const s = (score[i] ?? -Infinity) + (trans[i * L + j] ?? -Infinity);
        if (s > best) {
          best = s;
          arg = i;
        }
      }
      next[j] = best + (em[t * L + j] ?? 0);
      back[t * L + j] = arg;
    }
    [score, next] = [next, score];
  }
  let best = -Infinity;
  let arg = 0;
  for (let j = 0; j < L; j++) {
    const s = (score[j] ?? -Infinity) + (crf.end[j] ?? 0);
    if (s > best) {
      best = s;
      arg = j;
    }
  }
  const path = new Array<number>(n);
  path[n - 1] = arg;
  for (let t = n - 1; t > 0; t--) path[t - 1] = back[t * L + (path[t] ?? 0)] ?? 0;
  return { path, score: best };
}

/** Per-token argmax over emissions [n, L]. */
export function argmax(em: Float32Array, n: number, L: number): number[] {
  const out = new Array<number>(n);
  for (let t = 0; t < n; t++) {
    let arg = 0;
    for (let j = 1; j < L; j++) if ((em[t * L + j] ?? 0) > (em[t * L + arg] ?? 0)) arg = j;
    out[t] = arg;
  }
  return out;
}

/** Softmax probability of the chosen label per token: the confidence reported for argmax and CRF tags. */
export function chosenProbs(em: Float32Array, n: number, L: number, path: readonly number[]): number[] {
  const out = new Array<number>(n);
  for (let t = 0; t < n; t++) {
    let m = -Infinity;
    for (let j = 0; j < L; j++) m = Math.max(m, em[t * L + j] ?? 0);
    let z = 0;
    for (let j = 0; j < L; j++) z += Math.exp((em[t * L + j] ?? 0) - m);
    out[t] = Math.exp((em[t * L + (path[t] ?? 0)] ?? 0) - m) / z;
  }
  return out;
}

/**
 * Entities of a BIO tag sequence (read by src/text/bio.ts `bioToSpans`, the one BIO reader) with
 * score = mean token score over the span.
 */
export function scoredSpans(tags: readonly string[], scores: readonly number[]): WordSpan[] {
  return bioToSpans(tags).map((sp) => {
    let sum = 0;
    for (let i = sp.start; i < sp.end; i++) sum += scores[i] ?? 0;
    return { tokenStart: sp.start, tokenEnd: sp.end, type: sp.type, score: sum / (sp.end - sp.start) };
  });
}

/**
 * Span decoder (boundary detection + span classification; see docs/bundle-format.md): a span [i, i+w]
 * is a candidate when sigmoid(start[i]) and sigmoid(end[i+w]) both reach `threshold`; its class is the
 * argmax of span[i, w, :] and it is kept when that class is not labels[0] ("O"). Candidates may nest.
 * Score = P(start) * P(end) * P(class).
 */
export function decodeSpans(
  start: Float32Array,
  end: Float32Array,
  span: Float32Array,
  n: number,
  maxWidth: number,
  labels: readonly string[],
  threshold = 0.5,
): WordSpan[] {
  const C = labels.length;
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const out: WordSpan[] = [];
  for (let i = 0; i < n; i++) {
    const ps = sig(start[i] ?? -Infinity);
    if (ps < threshold) continue;
    for (let w = 0; w < maxWidth && i + w < n; w++) {
      const pe = sig(end[i + w] ?? -Infinity);
      if (pe < threshold) continue;
      const base = (i * maxWidth + w) * C;
      let arg = 0;
      let m = -Infinity;
      for (let c = 0; c < C; c++) {
        const v = span[base + c] ?? -Infinity;
        if (v > m) {
          m = v;
          arg = c;
        }
      }
      if (arg === 0) continue;
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp((span[base + c] ?? 0) - m);
      out.push({ tokenStart: i, tokenEnd: i + w + 1, type: labels[arg] ?? '', score: (ps * pe) / z });
    }
  }
  return out.sort((a, b) => a.tokenStart - b.tokenStart || b.tokenEnd - a.tokenEnd);
}

/** Flat BIO tags from possibly nested spans: the highest-scoring non-overlapping ones win. */
export function flattenSpans(spans: readonly WordSpan[], n: number): string[] {
  return spansToBio(
    spans.map((s) => ({ type: s.type, start: s.tokenStart, end: s.tokenEnd, score: s.score })),
    n,
    { overlap: 'best' },
  );
}
