import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { parseConll } from '../../../src/text/conll.ts';
import { TextInputError } from '../../../src/text/sentences.ts';
import {
  CORPUS_STYLES,
  joinTokens,
  styleFor,
  tokenize,
  type TokenizerStyle,
} from '../../../src/text/tokenize.ts';
import { tokenizeWords } from '../../../src/text/tokenizeWords.ts';

const words = (text: string, style: TokenizerStyle | keyof typeof CORPUS_STYLES = 'ptb'): string[] =>
  tokenize(text, { style }).map((t) => t.text);

describe('tokenize: ptb style (JNLPBA/GENIA, EBM-NLP)', () => {
  it.each([
    [
      'Activation of NF-kappa B (p50/p65) in CD4+ T cells was 3.5-fold higher (P=0.01).',
      'Activation of NF-kappa B ( p50/p65 ) in CD4+ T cells was 3.5-fold higher ( P=0.01 ) .',
    ],
    [
      'Growth of E. coli, e.g. strain K-12, was slower vs. controls; see Fig. 2.',
      'Growth of E. coli , e.g. strain K-12 , was slower vs. controls ; see Fig. 2 .',
    ],
    [
      "Parkinson's disease and the patient's IL-2R alpha.",
      "Parkinson 's disease and the patient 's IL-2R alpha .",
    ],
    [
      'Levels fell by 35% (95% CI, 20-50%) in 48 h. The rest: none.',
      'Levels fell by 35 % ( 95 % CI , 20-50 % ) in 48 h. The rest : none .',
    ],
    [
      "Binding of PU.1 and C/EBP to the 5'-flanking region (Ca2+)",
      "Binding of PU.1 and C/EBP to the 5'-flanking region ( Ca2+ )",
    ],
    ['poly(ADP-ribose) was detected [in vitro].', 'poly(ADP-ribose) was detected [ in vitro ] .'],
    ['1. Cells were washed.', '1. Cells were washed .'],
    ['"quoted" and ``GENIA quoted\'\' words', '" quoted " and `` GENIA quoted \'\' words'],
    ['(N.S.).', '( N.S. ) .'],
  ])('%s', (text, expected) => {
    expect(words(text, 'ptb')).toEqual(expected.split(' '));
  });
});

describe('tokenize: runs style (BC5CDR)', () => {
  it.each([
    ['were induced in 3 rats (17%) with 0.25% RA.', 'were induced in 3 rats ( 17 %) with 0 . 25 % RA .'],
    ['dose 3 mg/kg(-1).', 'dose 3 mg / kg (- 1 ).'],
    [
      "D-penicillamine and Parkinson's, 5,7-DHT, N,N'-dibenzhydryl",
      "D-penicillamine and Parkinson's , 5,7-DHT , N,N'-dibenzhydryl",
    ],
    ["cyclic 3',5'-monophosphate +/- Hoehn_Yahr", "cyclic 3',5'-monophosphate +/- Hoehn_Yahr"],
  ])('%s', (text, expected) => {
    expect(words(text, 'bc5cdr')).toEqual(expected.split(' '));
  });
});

describe('tokenize: split style (NCBI-disease, BC2GM)', () => {
  it('makes every punctuation character a token', () => {
    expect(words('a 190-kD protein, -0.54+/-1.0 (SD) mmHg.', 'ncbi')).toEqual(
      'a 190 - kD protein , - 0 . 54 + / - 1 . 0 ( SD ) mmHg .'.split(' '),
    );
    expect(words('αβ-Synuclein 😀x', 'split')).toEqual(['αβ', '-', 'Synuclein', '😀', 'x']);
  });
});

describe('tokenize: offsets, options and bad input', () => {
  it('gives offsets that slice the text', () => {
    const text = '  IL-2 (interleukin-2)\tbinds.\n';
    const toks = tokenize(text);
    expect(toks).toEqual([
      { text: 'IL-2', start: 2, end: 6 },
      { text: '(', start: 7, end: 8 },
      { text: 'interleukin-2', start: 8, end: 21 },
      { text: ')', start: 21, end: 22 },
      { text: 'binds', start: 23, end: 28 },
      { text: '.', start: 28, end: 29 },
    ]);
  });

  it('returns no tokens for empty or blank text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' \n\t\u00a0')).toEqual([]);
  });

  it('rejects unknown styles, non-strings and control characters with clear errors', () => {
    expect(() => styleFor('spacy')).toThrow(/unknown style "spacy"; valid: split, runs, ptb, bc5cdr/);
    expect(() => tokenize(undefined as unknown as string)).toThrow(TextInputError);
    expect(() => tokenize('a\u0007b')).toThrow(/tokenize: control character U\+0007 at offset 1/);
    expect(tokenize('a\u0007b', { controlChars: 'space' }).map((t) => t.text)).toEqual(['a', 'b']);
  });

  it('handles a 10,000-token sentence quickly', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? `(x${i}),` : `w-${i}`)).join(' ');
    const t0 = performance.now();
    for (const style of ['split', 'runs', 'ptb'] as const)
      expect(tokenize(text, { style }).length).toBeGreaterThan(10_000);
    // One 100,000-char chunk of brackets and periods: peeling must stay linear.
    const chunk = `${'('.repeat(30_000)}x${')'.repeat(30_000)}${'.'.repeat(40_000)}`;
    for (const style of ['split', 'runs', 'ptb'] as const)
      expect(
        tokenize(chunk, { style })
          .map((t) => t.text)
          .join(''),
      ).toBe(chunk);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  const piece = fc.constantFrom(
    ...'aZ09 .,;:()[]{}"\'`-/%+=\n\tµα'.split(''),
    "'s",
    ' e.g. ',
    ' E. ',
    '+/-',
    '\u00a0',
    '😀',
  );
  it('property: tokens slice the text, are ordered, hold no space, and cover all non-space text', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.constantFrom<TokenizerStyle>('split', 'runs', 'ptb'),
        (parts, style) => {
          const text = parts.join('');
          const toks = tokenize(text, { style });
          let prev = 0;
          for (const t of toks) {
            expect(t.start).toBeGreaterThanOrEqual(prev);
            expect(t.end).toBeGreaterThan(t.start);
            expect(text.slice(t.start, t.end)).toBe(t.text);
            expect(/\s/u.test(t.text)).toBe(false);
            prev = t.end;
          }
          expect(toks.map((t) => t.text).join('')).toBe(text.replace(/\s/gu, ''));
        },
      ),
      { numRuns: 600, seed: 7 },
    );
  });

  it('property: re-tokenizing space-joined tokens is the identity', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.constantFrom<TokenizerStyle>('split', 'runs', 'ptb'),
        (parts, style) => {
          const toks = words(parts.join(''), style);
          expect(words(joinTokens(toks, 'space'), style)).toEqual(toks);
        },
      ),
      { numRuns: 400, seed: 11 },
    );
  });
});

describe('joinTokens', () => {
  it('joins with single spaces or with written-text spacing', () => {
    const toks = ['IL-2', '(', 'a', ')', 'rose', '35', '%', ',', 'Parkinson', "'s", 'too', '.'];
    expect(joinTokens(toks, 'space')).toBe("IL-2 ( a ) rose 35 % , Parkinson 's too .");
    expect(joinTokens(toks, 'human')).toBe("IL-2 (a) rose 35%, Parkinson's too.");
    expect(joinTokens([], 'human')).toBe('');
  });
});

describe('tokenizeWords operator', () => {
  it('attaches tokens with sentence or document offsets, and nacks bad text', async () => {
    const settled: Settlement[] = [];
    const mk = (text: string, start: number) =>
      envelope(
        { pmid: '1', index: 0, start, end: start + text.length, text },
        {
          key: '1:0',
          origin: { kind: 'memory', source: 't', index: 0 },
          ack: AckToken.root((s) => settled.push(s)),
        },
      );
    const out = await firstValueFrom(
      from([mk('IL-2 binds.', 10), mk('bad\u0000', 0)]).pipe(
        tokenizeWords({ offsets: 'document', stepId: 'tok' }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.value.tokens).toEqual([
      { text: 'IL-2', start: 10, end: 14 },
      { text: 'binds', start: 15, end: 20 },
      { text: '.', start: 20, end: 21 },
    ]);
    expect(out[0]!.key).toBe('1:0');
    expect(settled).toHaveLength(1);
    expect(settled[0]!.failures[0]).toMatchObject({ stage: 'tokenize', stepId: 'tok' });
    expect(() => tokenizeWords({ style: 'nope' as 'ptb' })).toThrow(/ptb/);
  });
});

const skip = skipWithoutSharedData('tokenize agreement with the NER dev sets');
describe.skipIf(skip)('agreement with the five NER dev sets (needs shared/data)', () => {
  it.each(Object.keys(CORPUS_STYLES) as Array<keyof typeof CORPUS_STYLES>)(
    '%s: at least 99%% of dev sentences re-tokenize exactly (spaced and human spacing)',
    (corpus) => {
      const sents = parseConll(readFileSync(dataPath('ner', corpus, 'dev.conll'), 'utf8'), {
        source: corpus,
        validateTags: false,
      });
      let spaced = 0;
      let human = 0;
      for (const s of sents) {
        const a = words(joinTokens(s.tokens, 'space'), corpus);
        const b = words(joinTokens(s.tokens, 'human'), corpus);
        if (a.length === s.tokens.length && a.every((t, i) => t === s.tokens[i])) spaced++;
        if (b.length === s.tokens.length && b.every((t, i) => t === s.tokens[i])) human++;
      }
      expect(spaced / sents.length).toBeGreaterThanOrEqual(0.99);
      expect(human / sents.length).toBeGreaterThanOrEqual(0.99);
    },
  );
});
