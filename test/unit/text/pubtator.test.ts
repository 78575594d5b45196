import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import {
  formatPubtator,
  formatPubtatorDoc,
  parsePubtator,
  pubtatorFromArticle,
  pubtatorToArticle,
  PubtatorLineParser,
  PubtatorParseError,
  pubtatorText,
} from '../../../src/text/pubtator.ts';

const SAMPLE = [
  '123|t|Aspirin-induced asthma.',
  '123|a|We saw asthma after aspirin (n = 3).',
  '123\t0\t7\tAspirin\tChemical\tD001241',
  '123\t16\t22\tasthma\tDisease\tD001249',
  '123\t31\t37\tasthma\tDisease\tD001249\tcomposite|part',
  '123\tCID\tD001241\tD001249',
  '',
  '456|t|Second.',
  '456|a|',
  '',
].join('\n');

describe('parsePubtator', () => {
  it('parses titles, abstracts, annotations (with extra columns) and relations', () => {
    const docs = parsePubtator(SAMPLE);
    expect(docs).toHaveLength(2);
    const [a, b] = docs;
    expect(a?.pmid).toBe('123');
    expect(a?.title).toBe('Aspirin-induced asthma.');
    expect(a?.abstract).toBe('We saw asthma after aspirin (n = 3).');
    expect(a?.annotations).toHaveLength(3);
    expect(a?.annotations[2]?.extra).toEqual(['composite|part']);
    expect(a?.relations).toEqual([{ type: 'CID', arg1: 'D001241', arg2: 'D001249' }]);
    const text = pubtatorText(a!);
    for (const ann of a!.annotations) expect(text.slice(ann.start, ann.end)).toBe(ann.mention);
    expect(b).toMatchObject({ pmid: '456', title: 'Second.', abstract: '', annotations: [] });
  });

  it('round-trips through formatPubtator', () => {
    const docs = parsePubtator(SAMPLE);
    expect(parsePubtator(formatPubtator(docs))).toEqual(docs);
  });

  it('accepts CRLF line ends and documents without a trailing blank line', () => {
    const docs = parsePubtator('1|t|A.\r\n1|a|B.\r\n1\t0\t1\tA\tX\tid');
    expect(docs[0]).toMatchObject({ title: 'A.', abstract: 'B.' });
    expect(docs[0]?.annotations[0]?.id).toBe('id');
  });

  it('names the line of malformed input', () => {
    expect(() => parsePubtator('1|t|A.\n1|a|B.\n1\tx\t3\tA\tX\tid\n')).toThrow(/line 3: .*start/);
    expect(() => parsePubtator('1|t|A.\n1\t0\t1\n')).toThrow(/line 2: expected 4 columns/);
    expect(() => parsePubtator('1\t0\t1\tA\tX\tid\n')).toThrow(PubtatorParseError);
    expect(() => parsePubtator('1|t|A.\n2\t0\t1\tA\tX\tid\n')).toThrow(/does not match/);
    expect(() => parsePubtator('1|t|A.\n1\t5\t1\tA\tX\tid\n')).toThrow(/before start/);
    // The error must be thrown: asserted outside any catch, so a parser that accepts the line fails here.
    let err: unknown;
    try {
      parsePubtator('1|t|A.\n1\t0\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PubtatorParseError);
    expect(err).toMatchObject({ line: 2, retriable: false });
  });

  it('streams documents line by line', () => {
    const p = new PubtatorLineParser();
    const out = SAMPLE.split('\n')
      .map((l) => p.push(l))
      .filter((d) => d !== null);
    const last = p.end();
    expect(out.map((d) => d.pmid)).toEqual(['123', '456']);
    expect(last).toBeNull();
  });

  it('maps documents to PubmedArticle records and back without loss (one mapping for readers, eval and tests)', () => {
    const docs = parsePubtator(SAMPLE);
    const a = pubtatorToArticle(docs[0]!);
    expect(a).toMatchObject({ pmid: '123', journal: null, year: null, mesh: [] });
    expect(a.annotations[0]).toEqual({
      start: 0,
      end: 7,
      text: 'Aspirin',
      type: 'Chemical',
      conceptId: 'D001241',
      extra: [],
    });
    expect(a.annotations[2]!.extra).toEqual(['composite|part']);
    expect(a.relations).toEqual([{ type: 'CID', arg1: 'D001241', arg2: 'D001249' }]);
    expect(docs.map((d) => pubtatorFromArticle(pubtatorToArticle(d)))).toEqual(docs);
    const bare = pubtatorToArticle(docs[0]!, { gold: false });
    expect([bare.annotations, bare.relations]).toEqual([[], []]);
    // A mention without an id stays a 5-column line; an id-less mention with extra columns keeps an empty id.
    const doc = pubtatorFromArticle({
      pmid: '9',
      title: 'T.',
      abstract: 'A.',
      annotations: [
        { start: 0, end: 1, text: 'T', type: 'X', conceptId: null, extra: [] },
        { start: 3, end: 4, text: 'A', type: 'X', conceptId: null, extra: ['e'] },
      ],
    });
    expect(formatPubtatorDoc(doc).split('\n').slice(2)).toEqual(['9\t0\t1\tT\tX', '9\t3\t4\tA\tX\t\te']);
  });

  it('refuses to format a title or abstract with a line break (PubTator has no escaping)', () => {
    const doc = parsePubtator(SAMPLE)[0]!;
    expect(() => formatPubtatorDoc({ ...doc, title: 'two\nlines' })).toThrow(
      /title of PMID 123 contains a line break/,
    );
    expect(() => formatPubtatorDoc({ ...doc, abstract: 'cr\r' })).toThrow(/abstract of PMID 123/);
  });

  const skip = skipWithoutSharedData('pubtator CDR dev');
  it.skipIf(skip)('parses the 500 CDR dev abstracts with mentions matching their offsets', () => {
    const text = readFileSync(dataPath('pubtator/cdr_dev.pubtator'), 'utf8');
    const docs = parsePubtator(text);
    expect(docs).toHaveLength(500);
    let checked = 0;
    for (const d of docs) {
      const t = pubtatorText(d);
      for (const a of d.annotations) {
        expect(t.slice(a.start, a.end)).toBe(a.mention);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(9000);
    expect(formatPubtator(docs)).toBe(text);
  });
});
