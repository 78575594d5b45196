import { describe, expect, it } from 'vitest';
import { lengthFit, qualityOf, spanAgreement } from '../../../src/augment/quality.ts';

describe('quality scores', () => {
  it('spanAgreement is strict span F1, 1 when neither side has an entity', () => {
    expect(spanAgreement(['O', 'O'], ['O', 'O'])).toBe(1);
    expect(spanAgreement(['B-Disease', 'I-Disease', 'O'], ['B-Disease', 'I-Disease', 'O'])).toBe(1);
    // same tokens, boundary differs: no strict match
    expect(spanAgreement(['B-Disease', 'I-Disease', 'O'], ['B-Disease', 'O', 'O'])).toBe(0);
    // type differs
    expect(spanAgreement(['B-Disease', 'O'], ['B-Chemical', 'O'])).toBe(0);
    // one of two found: P = 1, R = 1/2
    expect(spanAgreement(['B-Disease', 'O', 'B-Chemical'], ['B-Disease', 'O', 'O'])).toBeCloseTo(2 / 3, 12);
    // an O-only record against a tagger that finds something
    expect(spanAgreement(['O', 'O'], ['B-Disease', 'O'])).toBe(0);
  });

  it('lengthFit is exp(-|change| / source length)', () => {
    expect(lengthFit(0, 10)).toBe(1);
    expect(lengthFit(-5, 5)).toBeCloseTo(Math.exp(-0.5), 12); // source had 10
    expect(lengthFit(5, 15)).toBeCloseTo(Math.exp(-0.5), 12); // source had 10
  });

  it('quality is the product of the present components, 0 when invalid', () => {
    const base = {
      valid: true,
      tokens: ['a', 'b', 'c', 'd'],
      lengthDiff: 0,
      meanLogProb: null,
      taggerAgreement: null,
    };
    expect(qualityOf(base)).toBe(1);
    expect(qualityOf({ ...base, meanLogProb: -0.5 })).toBeCloseTo(Math.exp(-0.5), 12);
    expect(qualityOf({ ...base, meanLogProb: -0.5, taggerAgreement: 0.5, lengthDiff: 2 })).toBeCloseTo(
      Math.exp(-0.5) * 0.5 * Math.exp(-1),
      12,
    );
    expect(qualityOf({ ...base, valid: false })).toBe(0);
    expect(qualityOf({ ...base, tokens: [] })).toBe(0);
  });
});
