import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalNer, EvalNerError, type SentenceTagger } from '../../../src/eval/evalNer.ts';
import { tempDir } from '../../helpers/setup.ts';

const dir = tempDir('evalner-');

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A tagger that tags every word in `dict` with its type (B- then I- for consecutive hits). */
function dictTagger(dict: Record<string, string>, labels: string[]): SentenceTagger & { calls: number[] } {
  const calls: number[] = [];
  return {
    labels,
    calls,
    predict: async (batch) => {
      calls.push(batch.length);
      return batch.map(({ tokens }) => ({
        tags: tokens.map((t, i) => {
          const ty = dict[t];
          if (!ty) return 'O';
          return i > 0 && dict[tokens[i - 1]!] === ty ? `I-${ty}` : `B-${ty}`;
        }),
      }));
    },
  };
}

describe('evalNer', () => {
  it('reads CRLF CoNLL with runs of blank lines and scores strict entities', async () => {
    const data = file(
      'a.conll',
      'Aspirin\tB-Chemical\r\ncauses\tO\r\nulcers\tB-Disease\r\n\r\n\r\n\r\nNo\tO\r\nlung\tB-Disease\r\ncancer\tI-Disease\r\n\r\n',
    );
    const tagger = dictTagger({ Aspirin: 'Chemical', ulcers: 'Disease', cancer: 'Disease' }, [
      'O',
      'B-Chemical',
      'I-Chemical',
      'B-Disease',
      'I-Disease',
    ]);
    const r = await evalNer(tagger, { data, batchSize: 1, now: () => 0 });
    expect(r.sentences).toBe(2);
    expect(r.tokens).toBe(6);
    expect(tagger.calls).toEqual([1, 1]);
    // 3 predicted (Aspirin, ulcers, cancer), 3 gold (Aspirin, ulcers, lung cancer): 2 correct
    expect(r.precision).toBeCloseTo(200 / 3);
    expect(r.recall).toBeCloseTo(200 / 3);
    expect(r.per_type.Chemical!.f1).toBeCloseTo(100);
    expect(r.per_type.Disease!.f1).toBeCloseTo(50);
  });

  it('reads the keyword column and gives type-less tags the model type', async () => {
    const data = file('k.tsv', 'heart\tO\tNOUN\tB\nfailure\tO\tNOUN\tI\nwas\tO\tAUX\tO\n\n');
    const r = await evalNer(dictTagger({ heart: 'KEY', failure: 'KEY' }, ['O', 'B-KEY', 'I-KEY']), {
      data,
      tagColumn: 4,
    });
    expect(r.f1).toBeCloseTo(100);
    expect(Object.keys(r.per_type)).toEqual(['KEY']);
  });

  it('names the line of a bad tag and the missing column', async () => {
    const bad = file('bad.conll', 'a\tO\nb\tB_X\n\n');
    await expect(evalNer(dictTagger({}, ['O']), { data: bad })).rejects.toThrow(
      /bad\.conll:2: invalid tag "B_X"/,
    );
    const two = file('two.conll', 'a\tO\n\n');
    await expect(evalNer(dictTagger({}, ['O']), { data: two, tagColumn: 4 })).rejects.toThrow(/no column 4/);
    const bare = file('bare.conll', 'a\tB\n\n');
    await expect(evalNer(dictTagger({}, ['O', 'B-X', 'B-Y']), { data: bare })).rejects.toThrow(/--bare-type/);
    await expect(evalNer(dictTagger({}, ['O']), { data: join(dir, 'missing') })).rejects.toThrow(
      EvalNerError,
    );
  });

  it('rejects a tagger that returns the wrong number of tags', async () => {
    const data = file('c.conll', 'a\tO\nb\tO\n\n');
    const broken: SentenceTagger = { predict: async (b) => b.map(() => ({ tags: ['O'] })) };
    await expect(evalNer(broken, { data })).rejects.toThrow(/1 tags for a sentence of 2 tokens/);
  });
});
