// fast-check generators of labeled sentences with valid BIO, shared by the augmenter tests.
import fc from 'fast-check';
import type { SentenceToAugment } from '../../../src/augment/types.ts';

export const TYPES = ['Disease', 'Chemical', 'cell_type'];
const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.,()/-]{0,7}$/);
// Real English words so SR finds WordNet synonyms in some draws.
const english = fc.constantFrom(
  'cancer',
  'tumor',
  'cell',
  'drug',
  'heart',
  'attack',
  'high',
  'disease',
  'large',
  'quickly',
  'blood',
  'test',
);
const token = fc.oneof(word, english);

const segment = fc.record({
  type: fc.constantFrom('O', ...TYPES),
  tokens: fc.array(token, { minLength: 1, maxLength: 4 }),
  kw: fc.boolean(),
});

/** A labeled sentence of 1-40 tokens with strict BIO tags and a keyword column. */
export const labeledSentence: fc.Arbitrary<SentenceToAugment> = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 10 }), fc.nat(10_000))
  .map(([segs, id]) => {
    const tokens: string[] = [];
    const tags: string[] = [];
    const keywords: string[] = [];
    for (const s of segs) {
      s.tokens.forEach((t, k) => {
        tokens.push(t);
        tags.push(s.type === 'O' ? 'O' : `${k === 0 ? 'B' : 'I'}-${s.type}`);
        keywords.push(s.kw ? (k === 0 ? 'B' : 'I') : 'O');
      });
    }
    return { id: `gen:${id}`, tokens, tags, keywords };
  });
