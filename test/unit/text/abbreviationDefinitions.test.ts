import { describe, expect, it } from 'vitest';
import {
  bestLongFormStart,
  definitionsByShortForm,
  findAbbreviationDefinitions,
  isShortFormCandidate,
  shortFormOccurrences,
} from '../../../src/text/abbreviationDefinitions.ts';

function pairs(text: string): Array<[string, string, string]> {
  return findAbbreviationDefinitions(text).map((d) => {
    // Offsets must slice back to the reported texts.
    expect(text.slice(d.shortForm.start, d.shortForm.end)).toBe(d.shortForm.text);
    expect(text.slice(d.longForm.start, d.longForm.end)).toBe(d.longForm.text);
    return [d.shortForm.text, d.longForm.text, d.pattern];
  });
}

describe('abbreviation definitions (Schwartz & Hearst)', () => {
  it('finds "long form (SF)" with a plural short form and keeps only the covering words', () => {
    const text =
      'Gastrointestinal bleeding is a known risk of nonsteroidal anti-inflammatory drugs (NSAIDs). NSAIDs were stopped.';
    expect(pairs(text)).toEqual([['NSAIDs', 'nonsteroidal anti-inflammatory drugs', 'long-short']]);
    const [d] = findAbbreviationDefinitions(text);
    expect(d!.shortForm.start).toBe(text.indexOf('(') + 1);
  });

  it('finds several definitions in one abstract, with a title prefix (document offsets)', () => {
    const title = 'Cardiotoxicity of doxorubicin';
    const abstract =
      'Doxorubicin (DOX) induced congestive heart failure (CHF) in rats. Levels of tumor necrosis factor-alpha (TNF-alpha) rose.';
    const text = `${title} ${abstract}`;
    expect(pairs(text)).toEqual([
      ['DOX', 'Doxorubicin', 'long-short'],
      ['CHF', 'congestive heart failure', 'long-short'],
      ['TNF-alpha', 'tumor necrosis factor-alpha', 'long-short'],
    ]);
  });

  it('finds "SF (long form)" and "(long form, SF)"', () => {
    expect(pairs('Patients received 5-FU (5-fluorouracil) weekly.')).toEqual([
      ['5-FU', '5-fluorouracil', 'short-long'],
    ]);
    expect(pairs('Rats were treated (cyclophosphamide, CY) and observed.')).toEqual([
      ['CY', 'cyclophosphamide', 'inside'],
    ]);
    expect(pairs('in acute renal failure (ARF; n = 12) patients')).toEqual([
      ['ARF', 'acute renal failure', 'long-short'],
    ]);
  });

  it('rejects parentheses that define nothing', () => {
    expect(pairs('The dose (10 mg/kg) was given (p < 0.05) to 12 rats (Fig. 2).')).toEqual([]);
    // Letters out of order: no long form.
    expect(pairs('We measured blood pressure (XYZ) daily.')).toEqual([]);
    // A long form may not cross a sentence boundary.
    expect(pairs('Aspirin was given. Then (A) happened.')).toEqual([]);
    // Unbalanced parenthesis.
    expect(pairs('heart failure (HF')).toEqual([]);
  });

  it('requires the first short-form character at a word start', () => {
    // "HF" must not match "heart failure" letters "h...f" inside a word only.
    expect(bestLongFormStart('HF', 'with heart failure')).toBe(5);
    expect(bestLongFormStart('NO', 'nitric oxide')).toBe(0);
    expect(bestLongFormStart('ZQ', 'nitric oxide')).toBe(-1);
  });

  it('bounds short forms', () => {
    expect(isShortFormCandidate('NSAIDs')).toBe(true);
    expect(isShortFormCandidate('a')).toBe(false);
    expect(isShortFormCandidate('12')).toBe(false);
    expect(isShortFormCandidate('-AB')).toBe(false);
    expect(isShortFormCandidate('ABCDEFGHIJK')).toBe(false);
    expect(isShortFormCandidate('one two three')).toBe(false);
  });

  it('finds short-form occurrences as whole tokens and maps the first definition of each', () => {
    const text = 'NSAIDs and NSAIDs-induced ulcers, not pNSAIDs or NSAIDs2.';
    expect(shortFormOccurrences(text, 'NSAIDs').map((s) => s.start)).toEqual([0, 11]);
    expect(shortFormOccurrences('5-FU (5-FU)', '5-FU')).toHaveLength(2);
    expect(
      shortFormOccurrences('Cocaine, cocaine and cocaineX; αcocaine', 'cocaine', { ignoreCase: true }),
    ).toEqual([
      { start: 0, end: 7, text: 'Cocaine' },
      { start: 9, end: 16, text: 'cocaine' },
    ]);
    // Lower-casing "İ" adds a code unit: offsets still index the original text.
    expect(shortFormOccurrences('İ drug, DRUG', 'drug', { ignoreCase: true }).map((o) => o.start)).toEqual([
      2, 8,
    ]);
    const defs = findAbbreviationDefinitions(
      'congestive heart failure (CHF) and chronic heart failure (CHF) differ',
    );
    expect(definitionsByShortForm(defs).get('CHF')!.longForm.text).toBe('congestive heart failure');
  });
});
