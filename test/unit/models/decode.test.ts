import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bioAllowed,
  decodeSpans,
  flattenSpans,
  scoredSpans,
  viterbi,
} from '../../../src/models/ner/decode.ts';
import { repairBio } from '../../../src/text/bio.ts';
import { planWindows } from '../../../src/models/windows.ts';

const LABELS = ['O', 'B-A', 'I-A', 'B-B', 'I-B'];

function pathScore(
  path: number[],
  em: Float32Array,
  crf: { transitions: number[][]; start: number[]; end: number[] },
): number {
  const L = LABELS.length;
  let s = crf.start[path[0]!]! + em[path[0]!]!;
  for (let t = 1; t < path.length; t++)
    s += crf.transitions[path[t - 1]!]![path[t]!]! + em[t * L + path[t]!]!;
  return s + crf.end[path[path.length - 1]!]!;
}

function* allPaths(n: number, L: number): Generator<number[]> {
  if (n === 0) {
    yield [];
    return;
  }
  for (const p of allPaths(n - 1, L)) for (let j = 0; j < L; j++) yield [...p, j];
}

describe('Viterbi with BIO constraints', () => {
  it('finds the best valid path (brute force over all paths, random scores)', () => {
    const num = fc.float({ min: -5, max: 5, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            em: fc.array(num, { minLength: n * 5, maxLength: n * 5 }),
            tr: fc.array(fc.array(num, { minLength: 5, maxLength: 5 }), { minLength: 5, maxLength: 5 }),
            st: fc.array(num, { minLength: 5, maxLength: 5 }),
            en: fc.array(num, { minLength: 5, maxLength: 5 }),
          }),
        ),
        ({ n, em, tr, st, en }) => {
          const crf = { transitions: tr, start: st, end: en };
          const e = Float32Array.from(em);
          const { path, score } = viterbi(e, n, LABELS, crf);
          const valid = (p: number[]): boolean =>
            p.every((j, t) => bioAllowed(t === 0 ? null : LABELS[p[t - 1]!]!, LABELS[j]!));
          expect(valid(path)).toBe(true);
          let best = -Infinity;
          for (const p of allPaths(n, 5)) if (valid(p)) best = Math.max(best, pathScore(p, e, crf));
          expect(score).toBeCloseTo(best, 4);
          expect(pathScore(path, e, crf)).toBeCloseTo(best, 4);
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });
});

describe('BIO helpers', () => {
  it('repairs orphan I- tags to B- and reads spans with mean scores', () => {
    expect(repairBio(['I-A', 'I-A', 'O', 'B-B', 'I-A'])).toEqual(['B-A', 'I-A', 'O', 'B-B', 'B-A']);
    expect(scoredSpans(['B-A', 'I-A', 'O', 'B-B'], [0.5, 1, 0.2, 0.9])).toEqual([
      { tokenStart: 0, tokenEnd: 2, type: 'A', score: 0.75 },
      { tokenStart: 3, tokenEnd: 4, type: 'B', score: 0.9 },
    ]);
  });
});

describe('span decoder', () => {
  it('finds nested spans from boundary + span-class logits and flattens the best non-overlapping ones', () => {
    // 4 words, spans up to width 3, classes O, A, B. Entities: A over [0,3) and B nested over [1,2).
    const n = 4;
    const W = 3;
    const labels = ['O', 'A', 'B'];
    const start = Float32Array.from([4, 4, -4, -4]);
    const end = Float32Array.from([-4, 4, 4, -4]);
    const span = new Float32Array(n * W * 3);
    for (let i = 0; i < n; i++) for (let w = 0; w < W; w++) span[(i * W + w) * 3] = 2; // default: O
    span[(0 * W + 2) * 3 + 1] = 6; // [0,3) -> A
    span[(1 * W + 0) * 3 + 2] = 6; // [1,2) -> B
    const spans = decodeSpans(start, end, span, n, W, labels);
    expect(spans.map((s) => [s.tokenStart, s.tokenEnd, s.type])).toEqual([
      [0, 3, 'A'],
      [1, 2, 'B'],
    ]);
    for (const s of spans) expect(s.score).toBeGreaterThan(0.9);
    expect(flattenSpans(spans, n)).toEqual(
      spans[0]!.score >= spans[1]!.score ? ['B-A', 'I-A', 'I-A', 'O'] : ['O', 'B-B', 'O', 'O'],
    );
  });
});

describe('planWindows', () => {
  it('covers every unit once by ownership, respects the budget, and leaves context at inner cuts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 80 }),
        fc.integer({ min: 4, max: 24 }),
        (costs, budget) => {
          const ws = planWindows(costs, budget);
          const owner = new Array<number>(costs.length).fill(0);
          for (const w of ws) {
            const c = costs.slice(w.start, w.end).reduce((a, b) => a + b, 0);
            if (w.end - w.start > 1) expect(c).toBeLessThanOrEqual(budget);
            expect(w.start).toBeLessThanOrEqual(w.ownStart);
            expect(w.ownEnd).toBeLessThanOrEqual(w.end);
            for (let i = w.ownStart; i < w.ownEnd; i++) owner[i]!++;
          }
          expect(owner.every((x) => x === 1)).toBe(true);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    expect(planWindows(new Array(20).fill(1), 8).map((w) => [w.start, w.end, w.ownStart, w.ownEnd])).toEqual([
      [0, 8, 0, 7],
      [6, 14, 7, 13],
      [12, 20, 13, 20],
    ]);
  });
});
