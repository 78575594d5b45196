import { describe, expect, it } from 'vitest';
import { scoreMentions } from '../../../src/eval/documentF1.ts';

describe('scoreMentions', () => {
  const m = (pmid: string, start: number, end: number, type: string) => ({ pmid, start, end, type });
  it('matches by PMID, exact offsets and type', () => {
    const gold = [m('1', 0, 5, 'Chemical'), m('1', 10, 17, 'Disease'), m('2', 3, 8, 'Disease')];
    const pred = [
      m('1', 0, 5, 'Chemical'), // tp
      m('1', 10, 16, 'Disease'), // boundary off by one: fp + fn
      m('2', 3, 8, 'Chemical'), // wrong type: fp (Chemical) + fn (Disease)
      m('1', 0, 5, 'Chemical'), // duplicate prediction counts once
    ];
    const s = scoreMentions(gold, pred);
    expect([s.tp, s.fp, s.fn]).toEqual([1, 2, 2]);
    expect(s.precision).toBeCloseTo(100 / 3);
    expect(s.recall).toBeCloseTo(100 / 3);
    expect(s.per_type.Chemical).toMatchObject({ tp: 1, fp: 1, fn: 0 });
    expect(s.per_type.Disease).toMatchObject({ tp: 0, fp: 1, fn: 2, f1: 0 });
  });
  it('restricts to given types and handles empty sets', () => {
    expect(scoreMentions([m('1', 0, 1, 'Gene')], [], ['Chemical']).f1).toBe(0);
    const s = scoreMentions(
      [m('1', 0, 1, 'Gene'), m('1', 2, 3, 'Chemical')],
      [m('1', 2, 3, 'Chemical')],
      ['Chemical'],
    );
    expect(s.f1).toBe(100);
  });
});
