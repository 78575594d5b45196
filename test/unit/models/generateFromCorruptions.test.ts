import { join } from 'node:path';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { corruptSentences } from '../../../src/augment/bioaug/corruptSentences.ts';
import type { SentenceToAugment as LabeledSentence } from '../../../src/augment/types.ts';
import { type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import {
  BioaugConfig,
  entitySpanIds,
  generateFromCorruptions,
} from '../../../src/models/seq2seq/generateFromCorruptions.ts';
import { createGenerator, type Generator } from '../../../src/models/seq2seq/generator.ts';
import { envelopes } from '../../helpers/setup.ts';

// The tiny real BART-style copy model: 24 words, label tokens for Disease only, 32 positions.
const fixture = join(import.meta.dirname, '../../fixtures/models/seq2seq');

const sentence = (id: string, tokens: string[], tags: string[]): LabeledSentence => ({
  id,
  tokens,
  tags,
  keywords: tokens.map(() => 'O'),
});
const disease = sentence(
  'd:0',
  ['colorectal', 'cancer', 'patients', 'treated', 'with', 'cisplatin'],
  ['B-Disease', 'I-Disease', 'O', 'O', 'O', 'O'],
);

const envs = <T extends { id: string }>(items: T[], settled: Settlement[]): Envelope<T>[] =>
  envelopes(items, { keyOf: (x) => x.id, onSettle: (r) => settled.push(r) });

/** Corrupts `items` (n copies each) and generates from the copies; acks every output. */
async function run(
  items: LabeledSentence[],
  config: Parameters<typeof generateFromCorruptions>[0],
  injected?: Generator,
  n = 2,
) {
  const settled: Settlement[] = [];
  const out = await lastValueFrom(
    from(envs(items, settled)).pipe(
      corruptSentences({ stepId: 'bioaug-corrupt', n, seed: 4 }),
      generateFromCorruptions(config, injected),
      toArray(),
    ),
  );
  for (const e of out) e.ack.ack();
  return { out, settled };
}

describe('generateFromCorruptions (tiny real seq2seq model)', () => {
  let gen: Generator;
  beforeAll(async () => {
    gen = await createGenerator(fixture);
  });
  afterAll(() => gen.dispose());

  it('writes one AugmentedSentence per corrupted copy, keyed and seeded per copy, reproducibly', async () => {
    // Constrained: the tiny copy model does not write label tokens by itself.
    const cfg = { generator: { model: fixture }, seed: 9, maxNewTokens: 12, constrainEntities: true };
    const a = await run([disease], cfg);
    const b = await run([disease], cfg);
    expect(a.out.map((e) => e.key)).toEqual(['d:0:bioaug:0', 'd:0:bioaug:1']);
    for (const { value } of a.out) {
      expect(value).toMatchObject({ sourceId: 'd:0', method: 'bioaug', seed: 9, modelId: 'seq2seq' });
      expect(value.generatedText).toEqual(expect.any(String));
      if (value.valid) {
        expect(value.tokens.length).toBe(value.tags.length);
        // The gold entity is kept, so the copy task's output de-linearizes with it.
        expect(value.tags).toContain('B-Disease');
      }
    }
    expect(a.out.some((e) => e.value.valid)).toBe(true);
    expect(a.out.map((e) => ({ ...e.value, createdAt: 0 }))).toEqual(
      b.out.map((e) => ({ ...e.value, createdAt: 0 })),
    );
    expect(a.settled).toEqual([{ failures: [] }]);
  });

  it('loads the generator on the first batch and disposes it when the stream finalizes', async () => {
    // Observe (not replace) dispose on the generator class: every generator shares the prototype.
    const dispose = vi.spyOn(Object.getPrototypeOf(gen) as Generator, 'dispose');
    try {
      // Building with a missing folder reads nothing: the error comes with the first batch.
      const op = generateFromCorruptions({ generator: { model: join(fixture, 'missing') } });
      const settled: Settlement[] = [];
      const copies = await firstValueFrom(
        from(envs([disease], settled)).pipe(corruptSentences({ n: 1 }), toArray()),
      );
      await expect(lastValueFrom(from(copies).pipe(op))).rejects.toThrow(/missing/);
      expect(dispose).not.toHaveBeenCalled();

      await run([disease], { generator: { model: fixture }, maxNewTokens: 4 });
      await vi.waitFor(() => expect(dispose).toHaveBeenCalledTimes(1));
      // An injected generator belongs to the caller: it is not disposed.
      await run([disease], { maxNewTokens: 4 }, gen);
      await new Promise((r) => setTimeout(r, 20));
      expect(dispose).toHaveBeenCalledTimes(1);
    } finally {
      dispose.mockRestore();
    }
  });

  it('an entity type without label tokens under constraints, or a too long input, becomes an invalid record', async () => {
    const chemical = sentence('c:0', ['cisplatin', 'treated', 'rats'], ['B-Chemical', 'O', 'O']);
    // Gold entities are always kept: 12 one-word entities linearize to 36 tokens, over 32 positions.
    const long = sentence(
      'l:0',
      Array.from({ length: 12 }, () => 'cancer'),
      Array.from({ length: 12 }, () => 'B-Disease'),
    );
    const { out, settled } = await run(
      [chemical, long],
      { constrainEntities: true, maxNewTokens: 4 },
      gen,
      1,
    );
    const byId = new Map(out.map((e) => [e.value.id, e.value]));
    expect(byId.get('c:0:bioaug:0')).toMatchObject({
      valid: false,
      tokens: [],
      generatedText: '(not generated: the generator has no label tokens for entity type Chemical)',
    });
    expect(byId.get('l:0:bioaug:0')).toMatchObject({
      valid: false,
      generatedText: "(not generated: the input exceeds the generator's 32 positions)",
    });
    expect(settled).toEqual([{ failures: [] }, { failures: [] }]);
  });

  it('emitInvalid: false drops invalid generations and still acks their sentences', async () => {
    const chemical = sentence('c:1', ['cisplatin', 'treated', 'rats'], ['B-Chemical', 'O', 'O']);
    const { out, settled } = await run(
      [chemical],
      { constrainEntities: true, emitInvalid: false, maxNewTokens: 4 },
      gen,
      3,
    );
    expect(out).toEqual([]);
    expect(settled).toEqual([{ failures: [] }]);
  });

  it('entitySpanIds linearizes each entity with its label tokens, without BOS/EOS', () => {
    const ids = entitySpanIds(gen, [{ type: 'Disease', tokens: ['colorectal', 'cancer'] }]);
    expect(ids).toEqual([
      gen.encode('<b-disease> colorectal <b-disease> <i-disease> cancer <i-disease>').slice(1, -1),
    ]);
  });

  it('BioaugConfig validates generation and corruption settings together, with defaults', () => {
    const c = BioaugConfig.parse({});
    expect(c).toMatchObject({ n: 5, seed: 1, strategy: 'sample', topK: 10, emitInvalid: true });
    expect(c.generator.maxBatch).toBe(16);
    expect(() => BioaugConfig.parse({ strategy: 'nucleus' })).toThrow();
    expect(() => BioaugConfig.parse({ unknown: 1 })).toThrow();
  });
});
