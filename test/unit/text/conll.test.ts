import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { ConllParseError, formatConll, formatConllSentence, parseConll } from '../../../src/text/conll.ts';

describe('parseConll', () => {
  it('reads tokens, tags, extra columns and line numbers; tolerates CRLF, blank runs, trailing spaces', () => {
    const text = '\r\nA\tO\tNOUN\tB  \r\nb\tB-Disease\tX\tI\r\n\r\n\r\n\r\nc\tO\tDET\tO';
    const s = parseConll(text, { source: 'x.tsv' });
    expect(s).toHaveLength(2);
    expect(s[0]).toEqual({
      id: 'x.tsv:0',
      tokens: ['A', 'b'],
      tags: ['O', 'B-Disease'],
      extra: [
        ['NOUN', 'X'],
        ['B', 'I'],
      ],
      lines: [2, 3],
    });
    expect(s[1]!.lines).toEqual([7]);
  });

  it('names file and line for a wrong column count', () => {
    const text = 'a\tO\nb\tO\textra\n';
    expect(() => parseConll(text, { source: 'f.conll' })).toThrow(ConllParseError);
    expect(() => parseConll(text, { source: 'f.conll' })).toThrow(/f\.conll:2: expected 2 columns, found 3/);
  });

  it('rejects control characters, invalid tags and over-long sentences with the line', () => {
    expect(() => parseConll('a\tO\nb\u0007c\tO\n', { source: 's' })).toThrow(/s:2: control character/);
    expect(() => parseConll('a\tB_X\n', { source: 's' })).toThrow(/s:1: invalid tag "B_X".*valid tags/);
    // An entity type is one word: a dash inside it, or no word at all, is not a type.
    for (const bad of ['B-Foo-Bar', 'I--', 'B-?', 'B-1x'])
      expect(() => parseConll(`a\t${bad}\n`, { source: 's' })).toThrow(/invalid tag .*type one word/);
    expect(parseConll('a\tB-cell_line\nb\tI-cell_line\n', { source: 's' })[0]!.tags).toEqual([
      'B-cell_line',
      'I-cell_line',
    ]);
    const long = Array.from({ length: 10_000 }, () => 'w\tO').join('\n');
    expect(() => parseConll(long, { source: 'big' })).toThrow(
      /big:5001: sentence starting at line 1 exceeds/,
    );
    expect(() => parseConll('a\n', { source: 's' })).toThrow(/s:1: expected at least 2 columns/);
  });

  it('returns no sentences for empty input', () => {
    expect(parseConll('', { source: 'e' })).toEqual([]);
    expect(parseConll('\n\n \n', { source: 'e' })).toEqual([]);
  });

  it('formatConll round-trips and refuses unwritable sentences', () => {
    const text = 'a\tO\tx\nb\tB-D\ty\n\nc\tO\tz\n\n';
    expect(formatConll(parseConll(text, { source: 's' }))).toBe(text);
    expect(() => formatConll([{ tokens: [], tags: [] }])).toThrow(/sentence 0 is empty/);
    expect(() => formatConll([{ tokens: ['a b'], tags: ['O'] }])).toThrow(/whitespace/);
    expect(() => formatConll([{ tokens: ['a'], tags: [] }])).toThrow(/1 tokens but 0 tags/);
    // The one writer (the CoNLL file sink goes through it too) names a sentence by its id when given.
    expect(() => formatConllSentence({ tokens: [], tags: [] }, 'x:3')).toThrow(/sentence x:3 is empty/);
  });

  const skip = skipWithoutSharedData('conll dev sets');
  it.skipIf(skip)('parses every dev set and writes it back byte for byte', () => {
    for (const ds of ['bc2gm', 'bc5cdr', 'ebmnlp', 'jnlpba', 'ncbi']) {
      const path = dataPath('ner', ds, 'dev.conll');
      const text = readFileSync(path, 'utf8');
      const s = parseConll(text, { source: path });
      expect(s.length).toBeGreaterThan(100);
      expect(formatConll(s).trim()).toBe(text.replace(/\n{3,}/g, '\n\n').trim());
    }
  });
});
