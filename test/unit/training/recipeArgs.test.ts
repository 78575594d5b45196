import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipeArgs, TrainUsageError } from '../../../training/lib/recipeArgs.ts';
import { runTrain } from '../../../training/run.ts';

const root = join(import.meta.dirname, '../../..');

describe('training recipes: one command-line parser, one usage error', () => {
  it('parses options, answers --help with the usage line, and names the valid options on a bad one', () => {
    const options = { out: { type: 'string' }, seed: { type: 'string', default: '1' } } as const;
    expect(parseRecipeArgs('train x', ['--out', 'o'], options, 'usage')?.values).toEqual({
      out: 'o',
      seed: '1',
    });
    expect(parseRecipeArgs('train x', ['--help'], options, 'npm run train -- x [--out dir]')).toBeUndefined();
    expect(() => parseRecipeArgs('train x', ['--bogus'], options, 'usage')).toThrow(TrainUsageError);
    expect(() => parseRecipeArgs('train x', ['--bogus'], options, 'usage')).toThrow(
      /^train x: Unknown option '--bogus'; valid options: --out, --seed$/,
    );
    expect(() => parseRecipeArgs('train x', ['stray'], options, 'usage')).toThrow(/train x: .*stray/);
    expect(() => parseRecipeArgs('train x', ['--out'], options, 'usage')).toThrow(/train x: .*--out/);
  });

  it.each(['ner', 'cid', 'normalize', 'gene-names', 'ensemble', 'pseudo-label', 'generator'])(
    '%s: an unknown option is a TrainUsageError before any work',
    async (recipe) => {
      await expect(runTrain([recipe, '--no-such-option'])).rejects.toThrow(TrainUsageError);
    },
  );

  it('npm run train exits 2 on a usage error of any recipe (an unknown option, an unreadable input)', () => {
    const train = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'training/run.ts', ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    const bad = train(['cid', '--no-such-option']);
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(
      /train cid: Unknown option '--no-such-option'; valid options: .*--predictions/,
    );
    expect(train(['ner', '--no-such-option']).status).toBe(2);
    const cli = spawnSync(process.execPath, ['src/cli/bin.mjs', 'train', 'gene-names', '--no-such-option'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(2);
    expect(cli.stderr).toMatch(/train gene-names: Unknown option/);
    const failed = train(['cid', '--train', join(root, 'no-such-file.pubtator')]);
    expect(failed.status, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/cannot read/);
  });
});
