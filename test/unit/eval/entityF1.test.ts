import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { entityF1, getEntities, EntityF1InputError } from '../../../src/eval/entityF1.ts';

// Expected values are seqeval 1.2.2 outputs (default mode) for the same inputs.
describe('getEntities (seqeval default chunking)', () => {
  it('finds IOB2 chunks with inclusive ends', () => {
    expect(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC'])).toEqual([
      { type: 'PER', start: 0, end: 1 },
      { type: 'LOC', start: 3, end: 3 },
    ]);
  });
  it('starts a chunk at an I- without B- (IOB1 style)', () => {
    expect(getEntities(['I-PER', 'I-PER', 'O'])).toEqual([{ type: 'PER', start: 0, end: 1 }]);
    expect(getEntities(['O', 'I-PER', 'B-PER', 'I-PER'])).toEqual([
      { type: 'PER', start: 1, end: 1 },
      { type: 'PER', start: 2, end: 3 },
    ]);
  });
  it('splits a run where the type changes', () => {
    expect(getEntities(['B-PER', 'I-LOC', 'I-LOC'])).toEqual([
      { type: 'PER', start: 0, end: 0 },
      { type: 'LOC', start: 1, end: 2 },
    ]);
  });
  it('handles IOBES and type-less tags like seqeval', () => {
    expect(getEntities(['S-X', 'B-Y', 'E-Y', 'O'])).toEqual([
      { type: 'X', start: 0, end: 0 },
      { type: 'Y', start: 1, end: 2 },
    ]);
    expect(getEntities(['B', 'I', 'O', 'B'])).toEqual([
      { type: '_', start: 0, end: 1 },
      { type: '_', start: 3, end: 3 },
    ]);
  });
});

describe('entityF1', () => {
  it('reproduces the seqeval README example (f1 0.50, MISC 0, PER 100)', () => {
    const gold = [
      ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const pred = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const r = entityF1(gold, pred);
    expect(r.precision).toBeCloseTo(50);
    expect(r.recall).toBeCloseTo(50);
    expect(r.f1).toBeCloseTo(50);
    expect(r.per_type.MISC).toEqual({ precision: 0, recall: 0, f1: 0, tp: 0, fp: 1, fn: 1, support: 1 });
    expect(r.per_type.PER).toEqual({ precision: 100, recall: 100, f1: 100, tp: 1, fp: 0, fn: 0, support: 1 });
  });
  it('counts a boundary error as one false positive and one false negative', () => {
    const r = entityF1([['B-D', 'I-D', 'O', 'B-C']], [['B-D', 'O', 'O', 'B-C']]);
    expect(r.precision).toBeCloseTo(50);
    expect(r.recall).toBeCloseTo(50);
    expect(r.per_type.C!.f1).toBeCloseTo(100);
    expect(r.per_type.D!.f1).toBe(0);
  });
  it('scores an I- started gold chunk the seqeval way, not as invalid', () => {
    // seqeval: gold chunk (X,1,2) matches the predicted B-X I-X at 1..2
    const r = entityF1([['O', 'I-X', 'I-X']], [['O', 'B-X', 'I-X']]);
    expect(r.f1).toBeCloseTo(100);
  });
  it('gives 0 (not NaN) when nothing is predicted or nothing is gold', () => {
    expect(entityF1([['O', 'B-X']], [['O', 'O']])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(entityF1([['O', 'O']], [['O', 'B-X']])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
  it('does not join chunks across sentences', () => {
    const r = entityF1([['B-X'], ['I-X']], [['B-X'], ['B-X']]);
    expect(r.f1).toBeCloseTo(100);
  });
  it('rejects misaligned input naming the sentence', () => {
    expect(() => entityF1([['O']], [])).toThrow(EntityF1InputError);
    expect(() => entityF1([['O'], ['O', 'O']], [['O'], ['O']])).toThrow(/sentence 1 has 2 gold tags but 1/);
  });
  it('is 100 on identical sequences and symmetric in P/R when gold and pred swap', () => {
    const tag = fc.constantFrom('O', 'B-A', 'I-A', 'B-B', 'I-B');
    const seqs = fc.array(fc.array(tag, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(seqs, seqs, (g, p0) => {
        const p = g.map((s, i) => s.map((t, j) => p0[i % p0.length]![j % p0[i % p0.length]!.length] ?? t));
        const self = entityF1(g, g);
        const hasChunk = g.some((s) => getEntities(s).length > 0);
        if (hasChunk) expect(self.f1).toBeCloseTo(100);
        const a = entityF1(g, p);
        const b = entityF1(p, g);
        expect(a.precision).toBeCloseTo(b.recall);
        expect(a.f1).toBeCloseTo(b.f1);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
