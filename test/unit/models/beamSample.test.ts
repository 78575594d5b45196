// Issue 17's generation additions on the tiny real seq2seq fixture: beam-sample (beam search over
// top-k samples), meanLogProb on every result and teacher forcing (forcedIds).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenerator, type Generator } from '../../../src/models/seq2seq/generator.ts';

const dir = join(import.meta.dirname, '../../fixtures/models/seq2seq');
const texts = ['colorectal cancer patients', 'patients treated with cisplatin', 'cancer'];

describe('beam-sample, meanLogProb and forcedIds (seq2seq fixture)', () => {
  let gen: Generator;
  beforeAll(async () => {
    gen = await createGenerator(dir, { stepId: 'test-gen' });
  });
  afterAll(() => gen.dispose());

  const beamSample = (inputs: string[], seeds: number[], extra: object = {}) =>
    gen.generate(inputs, {
      strategy: 'beam-sample',
      numBeams: 3,
      topK: 5,
      maxNewTokens: 12,
      seeds,
      ...extra,
    });

  it('is reproducible by seed, whatever the batch, and varies with the seed', async () => {
    const a = await beamSample(texts, [1, 2, 3]);
    const b = await beamSample(texts, [1, 2, 3]);
    expect(a).toEqual(b);
    const alone = await beamSample([texts[1]!], [2]);
    expect(alone[0]).toEqual(a[1]);
    const bySeed = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((s) => beamSample([texts[0]!], [s], { temperature: 100 })),
    );
    expect(new Set(bySeed.map((r) => r[0]![0]!.tokenIds.join(' '))).size).toBeGreaterThan(1);
  });

  it('at a vanishing temperature it is beam search', async () => {
    const beam = await gen.generate(texts, {
      strategy: 'beam',
      numBeams: 3,
      maxNewTokens: 12,
      numReturnSequences: 2,
    });
    const cold = await beamSample(texts, [1, 2, 3], { temperature: 1e-9, numReturnSequences: 2 });
    expect(cold.map((r) => r.map((x) => x.tokenIds))).toEqual(beam.map((r) => r.map((x) => x.tokenIds)));
  });

  it('meanLogProb is the score per scored token (EOS counted) for sampling, the score itself for beams at lengthPenalty 1', async () => {
    const [s] = await gen.generate([texts[0]!], { strategy: 'sample', seeds: [7], maxNewTokens: 12 });
    const x = s![0]!;
    const scored = x.tokenIds.length + (x.tokenIds.length < 12 ? 1 : 0);
    expect(x.meanLogProb).toBeCloseTo(x.score / scored, 12);
    const [b] = await gen.generate([texts[0]!], {
      strategy: 'beam',
      numBeams: 3,
      maxNewTokens: 12,
      lengthPenalty: 1,
    });
    expect(b![0]!.meanLogProb).toBeCloseTo(b![0]!.score, 12);
    expect(b![0]!.meanLogProb).toBeLessThanOrEqual(0);
  });

  it('forcedIds writes the given tokens and scores them as the model would have', async () => {
    const greedy = await gen.generate(texts, { strategy: 'greedy', maxNewTokens: 12 });
    const forced = await gen.generate(texts, {
      strategy: 'greedy',
      maxNewTokens: 12,
      forcedIds: greedy.map((r) => r[0]!.tokenIds),
    });
    forced.forEach((r, i) => {
      expect(r[0]!.tokenIds).toEqual(greedy[i]![0]!.tokenIds);
      expect(r[0]!.score).toBeCloseTo(greedy[i]![0]!.score, 6);
    });
    // a different sequence forced on the same input scores lower than the greedy (argmax) one
    const other = await gen.generate([texts[0]!], {
      strategy: 'greedy',
      maxNewTokens: 12,
      forcedIds: [greedy[1]![0]!.tokenIds],
    });
    expect(other[0]![0]!.score).toBeLessThan(greedy[0]![0]!.score);
    await expect(gen.generate(texts, { strategy: 'sample', forcedIds: [[4]] })).rejects.toThrow(/forcedIds/);
  });
});
