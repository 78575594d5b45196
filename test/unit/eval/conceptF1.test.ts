import { describe, expect, it } from 'vitest';
import { conceptParts, scoreConcepts, scoreRelations } from '../../../src/eval/conceptF1.ts';

describe('concept F1 (BioCreative V DNER measure)', () => {
  it('scores the set of ids per abstract and type: repeats count once, composites split, -1 ignored', () => {
    const gold = [
      { pmid: '1', type: 'Chemical', id: 'C1' },
      { pmid: '1', type: 'Chemical', id: 'C1' },
      { pmid: '1', type: 'Disease', id: 'D1|D2' },
      { pmid: '1', type: 'Disease', id: '-1' },
      { pmid: '2', type: 'Chemical', id: 'C1' },
    ];
    const pred = [
      { pmid: '1', type: 'Chemical', id: 'C1' },
      { pmid: '1', type: 'Disease', id: 'D2' },
      { pmid: '1', type: 'Disease', id: 'D9' },
      { pmid: '1', type: 'Disease', id: '-1' },
      { pmid: '2', type: 'Chemical', id: 'C2' },
      // The same id under the other type is no match.
      { pmid: '2', type: 'Disease', id: 'C1' },
    ];
    const s = scoreConcepts(gold, pred);
    expect(s.per_type.Chemical).toMatchObject({ tp: 1, fp: 1, fn: 1 });
    expect(s.per_type.Disease).toMatchObject({ tp: 1, fp: 2, fn: 1 });
    expect(s).toMatchObject({ tp: 2, fp: 3, fn: 2 });
    expect(s.precision).toBeCloseTo(40);
    expect(s.recall).toBeCloseTo(50);
    expect(s.f1).toBeCloseTo((2 * 40 * 50) / 90);
    expect(conceptParts(' D1 | -1 |')).toEqual(['D1']);
    expect(conceptParts(null)).toEqual([]);
  });

  it('relation F1 over (pmid, chemical, disease); no prediction scores 0 without dividing by zero', () => {
    const gold = [
      { pmid: '1', chemical: 'C1', disease: 'D1' },
      { pmid: '1', chemical: 'C1', disease: 'D2' },
      { pmid: '2', chemical: 'C1', disease: 'D1' },
    ];
    const r = scoreRelations(gold, [
      { pmid: '1', chemical: 'C1', disease: 'D1' },
      { pmid: '1', chemical: 'C1', disease: 'D1' },
      { pmid: '2', chemical: 'C1', disease: 'D2' },
    ]);
    expect(r).toMatchObject({ tp: 1, fp: 1, fn: 2 });
    expect(r.f1).toBeCloseTo(40);
    expect(scoreRelations(gold, [])).toMatchObject({ precision: 0, recall: 0, f1: 0, fn: 3 });
  });
});
