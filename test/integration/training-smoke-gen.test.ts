// Trains the relation classifier and the BioAug generator for a few steps on tiny slices of the shared
// data (generator pairs written by the engine's own `training-pairs` command), exports both bundles and
// runs them through the TypeScript runtime, checking parity with the PyTorch references the recipes write.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { float32, int64, f32 } from '../../src/models/backend.ts';
import { disposeBundle, loadBundle, type RelationBundle } from '../../src/models/bundle.ts';
import { createRelationClassifier } from '../../src/models/relations/relationClassifier.ts';
import { createGenerator } from '../../src/models/seq2seq/generator.ts';
import { runGenRecipe } from '../../training/gen/recipes.ts';
import { tempDir } from '../helpers/setup.ts';

const skip = skipWithoutSharedData('training-smoke-gen');

interface RelRef {
  items: { words: string[]; head: [number, number]; tail: [number, number]; logits: number[] }[];
}
interface GenRef {
  items: { input: string; inputIds: number[]; greedyIds: number[] }[];
}

describe.skipIf(skip)('relation + generator recipes (smoke)', () => {
  const dir = tempDir('h6b-smoke-');

  it('relations: trains a few steps, exports a bundle whose ONNX logits match PyTorch', async () => {
    const out = join(dir, 'relations');
    await runGenRecipe(
      ['relations', '--out', out, '--datasets', 'ncbi', '--epochs', '1', '--max-steps', '2'].concat([
        '--max-sentences',
        '30',
        '--reference',
      ]),
    );
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      labels: string[];
      verbalize: Record<string, string>;
      metrics: { heldout: { accuracy: number } };
    };
    expect(meta.labels).toHaveLength(434);
    expect(meta.labels).toContain('NA');
    expect(meta.verbalize.has_manifestation).toBe('has manifestation');
    expect(meta.metrics.heldout.accuracy).toBeGreaterThanOrEqual(0);
    const b = (await loadBundle(out, { task: 'relation-classification' })) as RelationBundle;
    try {
      const ref = JSON.parse(readFileSync(join(out, 'reference.json'), 'utf8')) as RelRef;
      expect(ref.items.length).toBeGreaterThan(0);
      const chars = b.chars!;
      for (const it of ref.items) {
        const T = it.words.length;
        const wordIds = it.words.map((w) => b.words.id(w));
        // runtime layout: every word padded to maxWordLength chars (the export is invariant to that width)
        const C = chars.maxWordLength;
        const charIds = new BigInt64Array(T * C);
        it.words.forEach((w, i) => chars.fill(w, charIds, i * C));
        const span = ([s, e]: [number, number]) => it.words.map((_, i) => (i >= s && i < e ? 1 : 0));
        const out = await b.session.run(
          {
            [b.inputs.words!]: int64(wordIds, [1, T]),
            [b.inputs.chars!]: int64(charIds, [1, T, C]),
            [b.inputs.mask!]: float32(new Array<number>(T).fill(1), [1, T]),
            [b.inputs.head!]: float32(span(it.head), [1, T]),
            [b.inputs.tail!]: float32(span(it.tail), [1, T]),
          },
          'smoke-relations',
        );
        const logits = f32(out[b.outputs.logits ?? 'logits'], 'logits');
        expect(logits.length).toBe(434);
        let diff = 0;
        it.logits.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - (logits[i] ?? NaN)))));
        expect(diff).toBeLessThan(1e-3);
      }
    } finally {
      await disposeBundle(b);
    }
    // the engine's classifier (batched over pairs) picks the same relation with the same probability
    const rc = await createRelationClassifier(out, { stepId: 'smoke-relations' });
    try {
      const ref = JSON.parse(readFileSync(join(out, 'reference.json'), 'utf8')) as RelRef;
      const got = await rc.predict(
        ref.items.map((r) => ({ tokens: r.words, pairs: [{ head: r.head, tail: r.tail }] })),
      );
      ref.items.forEach((r, i) => {
        const m = Math.max(...r.logits);
        const z = r.logits.reduce((a, x) => a + Math.exp(x - m), 0);
        expect(got[i]?.[0]?.label).toBe(meta.labels[r.logits.indexOf(m)]);
        expect(got[i]?.[0]?.probability).toBeCloseTo(1 / z, 4);
      });
    } finally {
      await rc.dispose();
    }
  }, 90_000);

  it('generator: pretrains + fine-tunes a few steps on training-pairs output, runtime greedy equals PyTorch', async () => {
    const out = join(dir, 'generator');
    const work = join(dir, 'gen-work');
    await runGenRecipe(
      ['generator', '--out', out, '--work', work, '--datasets', 'ncbi', '--size', '100', '--n', '1'].concat(
        ['--max-lines', '300', '--vocab-size', '400', '--d-model', '32', '--layers', '1', '--heads', '2'],
        ['--ffn', '64', '--max-steps', '2', '--no-eval', '--reference'],
      ),
    );
    // the pairs came from the TypeScript corruption, with silver knowledge after </s>
    const pairs = readFileSync(join(work, 'pairs', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(pairs).toHaveLength(100);
    expect(pairs.some((l) => (JSON.parse(l) as { input: string }).input.includes(' </s> '))).toBe(true);
    for (const f of [
      'encoder_model.onnx',
      'decoder_model.onnx',
      'decoder_with_past_model.onnx',
      'tokenizer.json',
    ])
      expect(statSync(join(out, f)).size).toBeGreaterThan(0);
    expect(existsSync(join(out, 'generation_config.json'))).toBe(true);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      task: string;
      labelTokens: string[];
      maskToken: string;
    };
    expect(meta.task).toBe('seq2seq');
    expect(meta.labelTokens).toContain('<b-cell_line>');
    const gen = await createGenerator(out, { stepId: 'smoke-generate' });
    try {
      const ref = JSON.parse(readFileSync(join(out, 'reference.json'), 'utf8')) as GenRef;
      for (const r of ref.items) {
        // tokenizer.json (node) and SentencePiece + special-token split (Python) agree on label tokens too
        expect(gen.encode(r.input)).toEqual(r.inputIds);
        const g = (await gen.generate([r.input], { strategy: 'greedy', maxNewTokens: 24 }))[0]?.[0];
        const want = r.greedyIds.filter((id) => id !== gen.bundle.config.eosTokenId);
        expect(g?.tokenIds).toEqual(want);
      }
      const samples = await gen.generate([ref.items[0]!.input], {
        strategy: 'sample',
        topK: 10,
        numReturnSequences: 3,
        seed: 7,
        maxNewTokens: 16,
      });
      expect(samples[0]).toHaveLength(3);
    } finally {
      await gen.dispose();
    }
  }, 110_000);
});
