// `bioaug-stream eval ner` end to end on the shipped NER bundle: raw CRLF CoNLL in, one JSON line out.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataPath, projectRoot } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { tempDir } from '../../helpers/setup.ts';

const skip = skipWithoutSharedData('evalNerCli');

describe.skipIf(skip)('eval ner CLI', () => {
  const dir = tempDir('evalcli-');

  it('scores models/ner-bc5cdr on 300 dev sentences and prints the JSON summary last', () => {
    const text = readFileSync(dataPath('ner/bc5cdr/dev.conll'), 'utf8').replace(/\r/g, '');
    const sents = text
      .split(/\n\s*\n/)
      .filter((s) => s.trim() !== '')
      .slice(0, 300);
    const file = join(dir, 'dev300.conll');
    // CRLF and runs of blank lines, as CoNLL files come in the wild
    writeFileSync(file, sents.join('\n\n\n\n').replace(/\n/g, '\r\n') + '\r\n\r\n');
    const out = execFileSync(
      process.execPath,
      [
        join(projectRoot, 'src/cli/bin.mjs'),
        'eval',
        'ner',
        '--model',
        join(projectRoot, 'models/ner-bc5cdr'),
        '--data',
        file,
      ],
      { encoding: 'utf8' },
    );
    const last = out.trim().split('\n').pop()!;
    const r = JSON.parse(last) as {
      precision: number;
      recall: number;
      f1: number;
      per_type: Record<string, { f1: number; support: number }>;
      sentences: number;
      sentences_per_s: number;
    };
    expect(r.sentences).toBe(300);
    expect(Object.keys(r.per_type).sort()).toEqual(['Chemical', 'Disease']);
    // The shipped model reaches ~84 on the whole dev set; a slice of 300 stays well above 70.
    expect(r.f1).toBeGreaterThan(70);
    expect(r.f1).toBeLessThanOrEqual(100);
    expect(r.sentences_per_s).toBeGreaterThan(0);
  }, 60_000);

  it('fails with a message naming the line of a malformed row', () => {
    const bad = join(dir, 'bad.conll');
    writeFileSync(bad, 'Aspirin\tB-Chemical\r\nworks\tX-Y\r\n\r\n');
    let stderr = '';
    try {
      execFileSync(
        process.execPath,
        [
          join(projectRoot, 'src/cli/bin.mjs'),
          'eval',
          'ner',
          '--model',
          join(projectRoot, 'models/ner-bc5cdr'),
          '--data',
          bad,
        ],
        { encoding: 'utf8', stdio: 'pipe' },
      );
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr);
    }
    expect(stderr).toMatch(/bad\.conll:2: invalid tag "X-Y"/);
  }, 60_000);
});
