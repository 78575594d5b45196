import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonAs, readJsonValue } from '../../../src/models/bundleFiles.ts';
import { ModelError } from '../../../src/models/errors.ts';
import { loadNormalizer } from '../../../src/models/normalize/conceptNormalizer.ts';
import { tempDir } from '../../helpers/setup.ts';

const Shape = z.object({ name: z.string(), size: z.number().int() }).strict();

function bundleDir(files: Record<string, string>): string {
  const dir = join(tempDir('bundle-files-'), 'b');
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('bundle JSON files: one reader for every loader', () => {
  it('readJsonAs returns the checked value, and names the file and the reason when it cannot', () => {
    const dir = bundleDir({
      'ok.json': '{"name":"x","size":3}',
      'bad.json': '{"name":',
      'wrong.json': '{"name":"x","size":"big"}',
    });
    expect(readJsonAs(dir, 'ok.json', 'description', Shape, 'not a shape')).toEqual({ name: 'x', size: 3 });
    const fail = (file: string): ModelError => {
      try {
        readJsonAs(dir, file, 'description', Shape, 'not a shape');
      } catch (e) {
        return e as ModelError;
      }
      throw new Error('no error');
    };
    expect(fail('none.json')).toBeInstanceOf(ModelError);
    expect(fail('none.json').message).toMatch(/none\.json: missing \(description\)/);
    expect(fail('bad.json').message).toMatch(/bad\.json: not a shape: .*JSON/);
    expect(fail('wrong.json').message).toMatch(/wrong\.json: not a shape: .*size/);
  });

  it('readJsonValue takes any JSON, and fails on a missing or malformed file', () => {
    const dir = bundleDir({ 'list.json': '[1,2]', 'bad.json': 'nope' });
    expect(readJsonValue(dir, 'list.json', 'list')).toEqual([1, 2]);
    expect(() => readJsonValue(dir, 'gone.json', 'pair prior')).toThrow(/gone\.json: missing \(pair prior\)/);
    expect(() => readJsonValue(dir, 'bad.json', 'list')).toThrow(/bad\.json: not valid JSON/);
  });

  it('the normalizer loader reports a bundle without its dictionary by the dictionary file', () => {
    const dir = bundleDir({
      'model.json': JSON.stringify({
        task: 'concept-normalization',
        name: 'n',
        files: { dictionary: 'dictionary.json' },
        threshold: 0.5,
      }),
    });
    expect(() => loadNormalizer(dir)).toThrow(/dictionary\.json: missing \(concept dictionary\)/);
  });
});
