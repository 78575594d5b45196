import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { bioToSpans, isValidBio } from '../../../src/text/bio.ts';
import { parseConll } from '../../../src/text/conll.ts';
import { qualityOf } from '../../../src/augment/quality.ts';
import { tempDir } from '../../helpers/setup.ts';

const skipData = skipWithoutSharedData('augment CLI corpus checks');
const dir = tempDir('h4-cli-');

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = 0;
  try {
    await main(['node', 'bioaug-stream', ...args]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stderr };
}

afterEach(() => {
  process.exitCode = 0;
});

describe('bioaug-stream augment', () => {
  it.skipIf(skipData)(
    'writes valid CoNLL for every method on ncbi/100/train.conll, same seed same bytes',
    async () => {
      const input = dataPath('ner', 'ncbi', '100', 'train.conll');
      const src = parseConll(readFileSync(input, 'utf8'), { source: input });
      for (const method of ['mr', 'lwtr', 'sis', 'sr', 'all4', 'corrupt']) {
        const out = join(dir, `${method}.conll`);
        const extra =
          method === 'corrupt' ? ['--keywords', dataPath('keywords', 'ncbi', '100', 'train.tsv')] : [];
        const r = await cli(
          'augment',
          '--method',
          method,
          '--input',
          input,
          '--n',
          '3',
          '--seed',
          '1',
          '--output',
          out,
          ...extra,
        );
        expect(r.code, r.stderr).toBe(0);
        const text = readFileSync(out, 'utf8');
        const sents = parseConll(text, { source: out });
        expect(sents).toHaveLength(src.length * 3);
        for (const s of sents) expect(isValidBio(s.tags)).toBe(true);
        // Entity counts are kept by every method here (MR/SR/corrupt keep mentions, LwTR/SiS keep tags).
        sents.forEach((s, i) =>
          expect(bioToSpans(s.tags).length).toBe(bioToSpans(src[Math.floor(i / 3)]!.tags).length),
        );
        if (method !== 'corrupt')
          expect(sents.some((s, i) => s.tokens.join(' ') !== src[Math.floor(i / 3)]!.tokens.join(' '))).toBe(
            true,
          );
        const again = join(dir, `${method}-again.conll`);
        await cli(
          'augment',
          '--method',
          method,
          '--input',
          input,
          '--n',
          '3',
          '--seed',
          '1',
          '--output',
          again,
          ...extra,
        );
        expect(readFileSync(again, 'utf8')).toBe(text);
      }
    },
  );

  it('reports bad input with the file and line, and unknown methods with the valid ones', async () => {
    const bad = join(dir, 'bad.conll');
    writeFileSync(bad, 'a\tO\nb\tO\n\nc\tO\textra\n');
    let r = await cli('augment', '--method', 'sis', '--input', bad, '--output', join(dir, 'x.conll'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.conll:4: expected 2 columns, found 3/);
    r = await cli('augment', '--method', 'nope', '--input', bad, '--output', join(dir, 'x.conll'));
    expect(r.stderr).toMatch(/unknown method "nope"; valid methods: mr, lwtr, sis, sr, all4, corrupt/);
    const ctl = join(dir, 'ctl.conll');
    writeFileSync(ctl, 'a\tO\nb\u0000\tO\n');
    r = await cli('augment', '--method', 'sis', '--input', ctl, '--output', join(dir, 'x.conll'));
    expect(r.stderr).toMatch(/ctl\.conll:2: control character/);
  });

  it('writes JSONL and saves state', async () => {
    const input = join(dir, 'small.conll');
    writeFileSync(input, 'colon\tB-Disease\ncancer\tI-Disease\nhurts\tO\n\nfever\tB-Disease\nnow\tO\n\n');
    const out = join(dir, 'small.jsonl');
    const st = join(dir, 'state.json');
    const r = await cli(
      'augment',
      '--method',
      'mr',
      '--p',
      '1',
      '--input',
      input,
      '--n',
      '2',
      '--format',
      'jsonl',
      '--output',
      out,
      '--save-state',
      st,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; tags: string[] });
    expect(lines.map((l) => l.id)).toEqual([
      `${input}:0:mr:0`,
      `${input}:0:mr:1`,
      `${input}:1:mr:0`,
      `${input}:1:mr:1`,
    ]);
    expect(JSON.parse(readFileSync(st, 'utf8')).mentions.Disease).toEqual([['colon', 'cancer'], ['fever']]);
  });

  it('JSONL lines carry the record scores the augment topology computed', async () => {
    const input = join(dir, 'scores.conll');
    writeFileSync(input, 'colon\tB-Disease\ncancer\tI-Disease\nhurts\tO\n\nfever\tB-Disease\nnow\tO\n\n');
    const sources = [
      ['colon', 'cancer', 'hurts'],
      ['fever', 'now'],
    ];
    const out = join(dir, 'scores.jsonl');
    // Relative paths: the sentence ids (and so the forked random draws) come from the input path as
    // given, so a fixed name makes the draws the same on every run; with the temp dir's random name, all
    // six copies drew their own mention back once in 64 runs and the last check failed.
    const cwd = process.cwd();
    process.chdir(dir);
    let r: { code: number; stderr: string };
    try {
      r = await cli(
        'augment',
        ...['--method', 'mr', '--p', '1', '--input', 'scores.conll', '--n', '3', '--format', 'jsonl'],
        ...['--include-original', '--output', 'scores.jsonl', '--seed', '1'],
      );
    } finally {
      process.chdir(cwd);
    }
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { tokens: string[]; method: string });
    const copies = lines.filter((l) => l.method !== 'original');
    expect(copies).toHaveLength(6);
    expect(copies[0]!.id).toBe('scores.conll:0:mr:0');
    // An original has no scores; a copy has every score field, snake_case like the rest of the line.
    expect(Object.keys(lines.find((l) => l.method === 'original')!)).toEqual([
      ...['id', 'source_id', 'method', 'n', 'tokens', 'tags'],
    ]);
    for (const [i, l] of copies.entries()) {
      expect(Object.keys(l)).toEqual([
        ...['id', 'source_id', 'method', 'n', 'tokens', 'tags', 'valid', 'new_token_share'],
        ...['length_diff', 'mean_log_prob', 'tagger_agreement', 'quality', 'reject_reason'],
      ]);
      const src = sources[Math.floor(i / 3)]!;
      const fresh = l.tokens.filter((t) => !src.includes(t)).length / l.tokens.length;
      const lengthDiff = l.tokens.length - src.length;
      expect(l).toMatchObject({
        valid: true,
        length_diff: lengthDiff,
        mean_log_prob: null,
        tagger_agreement: null,
        reject_reason: null,
      });
      expect(l.new_token_share).toBeCloseTo(fresh, 12);
      expect(l.quality).toBeCloseTo(
        qualityOf({ valid: true, tokens: l.tokens, lengthDiff, meanLogProb: null, taggerAgreement: null }),
        12,
      );
    }
    // MR with p = 1 swaps the two mentions: the scores are not all defaults.
    expect(copies.some((l) => (l.new_token_share as number) > 0 && (l.length_diff as number) !== 0)).toBe(
      true,
    );
  });

  it('runs through the augment topology: a failing sentence is reported with its line, the others written with their originals', async () => {
    const input = join(dir, 'nbsp.conll');
    // The reader splits columns at tabs, so a no-break space stays inside the token: the augmenter refuses it.
    writeFileSync(input, 'a\u00a0b\tO\nc\tO\n\nfever\tB-Disease\nnow\tO\n\n');
    const out = join(dir, 'long.jsonl');
    const r = await cli(
      'augment',
      '--method',
      'sis',
      '--input',
      input,
      '--n',
      '120',
      '--format',
      'jsonl',
      '--include-original',
      '--output',
      out,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `sis: sentence "${input}:0" (line 1) token 0 "a\u00a0b" is empty or holds whitespace`,
    );
    expect(r.stderr).toContain('augment: 1 sentences failed; their copies were not written');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; source_id: string; method: string; n: number });
    // The original first, then n copies (n above the topology's former cap of 100), numbered from their ids.
    expect(lines).toHaveLength(121);
    expect(lines[0]).toMatchObject({ id: `${input}:1`, method: 'original', n: -1 });
    expect(lines.slice(1).map((l) => l.n)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(
      lines.slice(1).every((l) => l.id === `${input}:1:sis:${l.n}` && l.source_id === `${input}:1`),
    ).toBe(true);
  });
});

describe('bioaug-stream training-pairs', () => {
  it.skipIf(skipData)('writes {id, source_id, n, input, target} JSONL for ncbi/100', async () => {
    const out = join(dir, 'pairs.jsonl');
    const r = await cli(
      'training-pairs',
      '--dataset',
      'ncbi',
      '--size',
      '100',
      '--seed',
      '1',
      '--n',
      '3',
      '--output',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const pairs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(pairs).toHaveLength(300);
    expect(Object.keys(pairs[0]!)).toEqual(['id', 'source_id', 'n', 'input', 'target']);
    expect(pairs[0]!.source_id).toBe('ncbi/100/train:0');
    expect(pairs.filter((p) => String(p.input).includes(' </s> ')).length).toBeGreaterThan(200);
    expect(r.stderr).toMatch(/300 pairs from 100 sentences/);
  });

  it('explains missing options', async () => {
    const r = await cli('training-pairs', '--output', join(dir, 'p.jsonl'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give --dataset <name>.*or --input <file>/);
  });
});
