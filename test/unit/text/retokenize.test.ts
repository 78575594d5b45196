import { describe, expect, it } from 'vitest';
import { bioToSpans, isValidBio } from '../../../src/text/bio.ts';
import { retokenizeLabeled } from '../../../src/text/retokenize.ts';
import { tokenize } from '../../../src/text/tokenize.ts';

describe('retokenizeLabeled', () => {
  it('splits mention tokens the way raw text is tokenized and propagates B/I tags', () => {
    const r = retokenizeLabeled(
      {
        tokens: ['Treatment', 'with', 'MK-801', 'and', '5-HT', 'caused', 'L-dopa-induced', 'dyskinesia', '.'],
        tags: ['O', 'O', 'B-Chemical', 'O', 'B-Chemical', 'O', 'O', 'B-Disease', 'O'],
      },
      'split',
    );
    expect(r.tokens).toEqual([
      'Treatment', 'with', 'MK', '-', '801', 'and', '5', '-', 'HT', 'caused',
      'L', '-', 'dopa', '-', 'induced', 'dyskinesia', '.',
    ]); // prettier-ignore
    expect(r.tags).toEqual([
      'O', 'O', 'B-Chemical', 'I-Chemical', 'I-Chemical', 'O', 'B-Chemical', 'I-Chemical', 'I-Chemical', 'O',
      'O', 'O', 'O', 'O', 'O', 'B-Disease', 'O',
    ]); // prettier-ignore
    expect(r.source).toEqual([0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 6, 6, 6, 7, 8]);
    expect(isValidBio(r.tags)).toBe(true);
  });

  it('keeps every mention: same count and the same text once the pieces are joined back', () => {
    const s = {
      tokens: ['IL-2', 'receptor', 'alpha', 'in', 'T-cells', '(', 'n=3', ')'],
      tags: ['B-protein', 'I-protein', 'I-protein', 'O', 'B-cell_type', 'O', 'O', 'O'],
    };
    const r = retokenizeLabeled(s, 'split');
    const before = bioToSpans(s.tags).map((sp) => s.tokens.slice(sp.start, sp.end).join(''));
    const after = bioToSpans(r.tags).map((sp) => r.tokens.slice(sp.start, sp.end).join(''));
    expect(after).toEqual(before);
    expect(isValidBio(r.tags)).toBe(true);
  });

  it('gives the tokens the tokenizer gives the space-joined sentence', () => {
    const tokens = [
      'Naloxone',
      'reverses',
      'the',
      'anti-hypertensive',
      'effect',
      'of',
      'clonidine',
      '(',
      '0.5',
      'mg/kg',
      ').',
    ];
    const r = retokenizeLabeled({ tokens, tags: tokens.map(() => 'O') }, 'split');
    expect(r.tokens).toEqual(tokenize(tokens.join(' '), { style: 'split' }).map((t) => t.text));
  });

  it('handles bare B/I tags (keyword columns) and rejects mismatched lengths', () => {
    expect(retokenizeLabeled({ tokens: ['blood-pressure', 'rose'], tags: ['B', 'O'] }, 'split').tags).toEqual(
      ['B', 'I', 'I', 'O'],
    );
    expect(() => retokenizeLabeled({ tokens: ['a', 'b'], tags: ['O'] }, 'split')).toThrow(
      /2 tokens but 1 tags/,
    );
  });
});
