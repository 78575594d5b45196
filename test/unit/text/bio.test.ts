import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bioToIobes,
  bioToSpans,
  firstBioError,
  iobesToBio,
  isValidBio,
  repairBio,
  spansToBio,
  spansToCharSpans,
} from '../../../src/text/bio.ts';

// A fixed seed keeps CI deterministic; change it locally to explore other cases.
fc.configureGlobal({ seed: 20261122 });

const anyTag = fc.constantFrom('O', 'B-A', 'I-A', 'B-B', 'I-B');
const tagsArb = fc.array(anyTag, { maxLength: 30 });

describe('BIO tools', () => {
  it('reads spans and writes them back', () => {
    const tags = ['O', 'B-Disease', 'I-Disease', 'B-Chemical', 'O', 'B-Disease'];
    const spans = bioToSpans(tags);
    expect(spans).toEqual([
      { type: 'Disease', start: 1, end: 3 },
      { type: 'Chemical', start: 3, end: 4 },
      { type: 'Disease', start: 5, end: 6 },
    ]);
    expect(spansToBio(spans, tags.length)).toEqual(tags);
  });

  it('repairs I-X without B-X into B-X and keeps the spans an evaluator reads', () => {
    expect(repairBio(['O', 'I-A', 'I-A', 'I-B', 'O'])).toEqual(['O', 'B-A', 'I-A', 'B-B', 'O']);
    expect(firstBioError(['O', 'I-A'])).toBe(1);
    fc.assert(
      fc.property(tagsArb, (tags) => {
        const r = repairBio(tags);
        expect(isValidBio(r)).toBe(true);
        expect(bioToSpans(r)).toEqual(bioToSpans(tags));
        if (isValidBio(tags)) expect(r).toEqual(tags);
        expect(spansToBio(bioToSpans(tags), tags.length)).toEqual(r);
      }),
    );
  });

  it('converts to IOBES and back', () => {
    expect(bioToIobes(['B-A', 'I-A', 'I-A', 'B-A', 'O', 'B-B', 'I-B'])).toEqual([
      'B-A',
      'I-A',
      'E-A',
      'S-A',
      'O',
      'B-B',
      'E-B',
    ]);
    fc.assert(
      fc.property(tagsArb, (tags) => {
        expect(iobesToBio(bioToIobes(tags))).toEqual(repairBio(tags));
      }),
    );
  });

  it('maps token spans to character offsets', () => {
    const text = 'Colorectal cancer in England';
    const offsets = [
      { start: 0, end: 10 },
      { start: 11, end: 17 },
      { start: 18, end: 20 },
      { start: 21, end: 28 },
    ];
    const cs = spansToCharSpans(bioToSpans(['B-D', 'I-D', 'O', 'B-L']), offsets);
    expect(cs.map((c) => text.slice(c.start, c.end))).toEqual(['Colorectal cancer', 'England']);
  });

  it('rejects malformed tags and spans with a message naming them', () => {
    expect(() => bioToSpans(['X-A'])).toThrow(/invalid tag "X-A".*valid tags/);
    expect(() => spansToBio([{ type: 'A', start: 0, end: 3 }], 2)).toThrow(/out of range/);
    expect(() =>
      spansToBio(
        [
          { type: 'A', start: 0, end: 2 },
          { type: 'B', start: 1, end: 2 },
        ],
        2,
      ),
    ).toThrow(/overlaps/);
  });

  it('with overlap "best", keeps the highest-scoring spans that do not overlap (nested span-head output)', () => {
    const nested = [
      { type: 'A', start: 0, end: 3, score: 0.6 },
      { type: 'B', start: 1, end: 2, score: 0.9 },
      { type: 'C', start: 3, end: 4, score: 0.1 },
    ];
    expect(spansToBio(nested, 5, { overlap: 'best' })).toEqual(['O', 'B-B', 'O', 'B-C', 'O']);
    // Equal scores: the earlier start wins, whatever the input order.
    const tie = [
      { type: 'B', start: 1, end: 3, score: 0.5 },
      { type: 'A', start: 0, end: 2, score: 0.5 },
    ];
    expect(spansToBio(tie, 3, { overlap: 'best' })).toEqual(['B-A', 'I-A', 'O']);
    // The default stays strict: the same spans are an error.
    expect(() => spansToBio(nested, 5)).toThrow(/overlaps another at token 1/);
    expect(() => spansToBio([{ type: 'A', start: 2, end: 9, score: 1 }], 5, { overlap: 'best' })).toThrow(
      /out of range/,
    );
  });
});
