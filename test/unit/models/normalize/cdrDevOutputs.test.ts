// Identical outputs of concept normalization on the CDR dev abstracts: every gold mention normalized per
// abstract with the shipped bundle, and lookups of variants of each mention that reach the trigram
// similarity ranker (with the default and smaller candidate limits), against the outputs of the code
// before the ranker was rewritten (test/fixtures/normalize/cdr-dev-expected.json, made by makeExpected.ts
// at commit afd38e8): ids, scores (exact doubles), tiers and matched names.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataPath, projectRoot } from '../../../../src/io/dataPath.ts';
import { loadNormalizer } from '../../../../src/models/normalize/conceptNormalizer.ts';
import { parsePubtator, pubtatorText } from '../../../../src/text/pubtator.ts';
import { cdrDevOutputLines } from '../../../fixtures/normalize/cdrDevOutputs.ts';
import { skipWithoutSharedData } from '../../../helpers/sharedData.ts';

const skip = skipWithoutSharedData('normalize cdrDevOutputs');

interface Expected {
  lines: number;
  sha256: string;
  every50th: string[];
}

describe.skipIf(skip)('concept normalization on cdr_dev.pubtator', () => {
  it('gives the same ids, scores, tiers and names as the code before the ranker rewrite', () => {
    const expected = JSON.parse(
      readFileSync(join(projectRoot, 'test/fixtures/normalize/cdr-dev-expected.json'), 'utf8'),
    ) as Expected;
    const lines = cdrDevOutputLines(
      { loadNormalizer, parsePubtator, pubtatorText },
      join(projectRoot, 'models/normalize-cdr'),
      readFileSync(dataPath('pubtator', 'cdr_dev.pubtator'), 'utf8'),
    );
    // The ranker is exercised: most variant lookups are answered by it.
    expect(lines.filter((l) => l.endsWith('\tsimilar') || l.includes('\tsimilar\t')).length).toBeGreaterThan(
      10_000,
    );
    // A readable diff first (every 50th line), then all of them.
    expect(lines.filter((_, i) => i % 50 === 0)).toEqual(expected.every50th);
    expect(lines.length).toBe(expected.lines);
    expect(createHash('sha256').update(lines.join('\n')).digest('hex')).toBe(expected.sha256);
  });
});
