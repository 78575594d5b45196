// generateFromCorruptions with more samples per corruption (issue 17): the best valid one by mean token
// log-likelihood is kept. Real shipped generator (models/generator) on real NCBI sentences.
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corruptSentences } from '../../../src/augment/bioaug/corruptSentences.ts';
import { attachKeywords, readLabeled } from '../../../src/augment/corpus.ts';
import { AckToken, envelope } from '../../../src/engine/envelope.ts';
import type { AugmentedSentence } from '../../../src/io/avro/types.generated.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { defaultModel } from '../../../src/models/modelStepConfig.ts';
import { generateFromCorruptions } from '../../../src/models/seq2seq/generateFromCorruptions.ts';
import { createGenerator, type Generator } from '../../../src/models/seq2seq/generator.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';

const skip = skipWithoutSharedData('generateFromCorruptions samples');

describe.skipIf(skip)('generateFromCorruptions: samples per corruption', () => {
  const gold = skip ? [] : readLabeled(dataPath('ner', 'ncbi', '100', 'train.conll'));
  if (!skip) attachKeywords(gold, dataPath('keywords', 'ncbi', '100', 'train.tsv'));
  const sentences = gold.slice(0, 6);
  let g: Generator;
  beforeAll(async () => {
    g = await createGenerator(defaultModel('generator'));
  });
  afterAll(() => g.dispose());

  async function run(samples: number): Promise<Map<string, AugmentedSentence>> {
    const out = await lastValueFrom(
      from(
        sentences.map((s, i) =>
          envelope(s, { key: s.id, origin: { kind: 'memory', source: 'm', index: i }, ack: AckToken.noop() }),
        ),
      ).pipe(
        corruptSentences({ n: 3, seed: 5 }),
        generateFromCorruptions({ seed: 5, samples, entityTypes: ['Disease'], maxNewTokens: 96 }, g),
        toArray(),
      ),
    );
    return new Map(out.map((e) => [e.value.id, e.value]));
  }

  it('keeps one record per copy, the best valid of its samples: never fewer valid, never less likely', async () => {
    const one = await run(1);
    const four = await run(4);
    expect([...four.keys()]).toEqual([...one.keys()]);
    const valid = (m: Map<string, AugmentedSentence>) => [...m.values()].filter((r) => r.valid).length;
    expect(valid(four)).toBeGreaterThanOrEqual(valid(one));
    let better = 0;
    for (const [id, a] of one) {
      const b = four.get(id)!;
      expect(b.meanLogProb).not.toBeNull();
      // the first of four samples is the single sample (same per-copy seed), so the best is no worse
      if (a.valid) {
        expect(b.valid).toBe(true);
        expect(b.meanLogProb!).toBeGreaterThanOrEqual(a.meanLogProb!);
        if (b.meanLogProb! > a.meanLogProb!) better += 1;
      }
      expect(b.quality).toBeGreaterThanOrEqual(0);
      expect(b.quality).toBeLessThanOrEqual(1);
    }
    expect(better).toBeGreaterThan(0);
  });
});
