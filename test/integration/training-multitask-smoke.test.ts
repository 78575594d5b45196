// Trains the multi-task recipe (`npm run train -- ner-multitask`) for a few steps on tiny slices of
// the five shared NER corpora, exports two single-head bundles (bc5cdr, ncbi) and checks each one:
// its model.json provenance, the ONNX emissions against PyTorch's, and the engine's bundle loader.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataPath } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { loadTagger } from '../../src/cli/loadTagger.ts';
import { evalNer } from '../../src/eval/evalNer.ts';
import { runTrain, TrainUsageError } from '../../training/run.ts';
import { sliceConll, tempDir } from '../helpers/setup.ts';
import { onnxVsReference } from '../helpers/onnxReference.ts';
import { bundleSawData } from '../../src/models/bundleProvenance.ts';

const skip = skipWithoutSharedData('training-multitask-smoke');

interface Meta {
  name: string;
  labels: string[];
  decoder: string;
  provenance: {
    train: string;
    dev: string;
    training: string;
    texts: string[];
    recipe: string;
    command: string;
    seed: number;
    multitask: {
      head: string;
      corpora: Record<string, { labels: string[]; train_sentences: number; sampling_p: number }>;
      dev_f1_at_best_epoch: Record<string, number>;
      seeds: number[];
      steps: number;
    };
  };
  training: { epochs_run: number; history: { epoch: number; dev_f1: number; a: number }[] };
  metrics: { dev: { f1: number; sentences: number } };
}

describe.skipIf(skip)('ner-multitask recipe (smoke)', () => {
  const dir = tempDir('mt-smoke-');
  const corpora = ['bc5cdr', 'ncbi', 'bc2gm', 'jnlpba', 'ebmnlp'];
  const heads = { bc5cdr: join(dir, 'ner-bc5cdr-mt'), ncbi: join(dir, 'ner-ncbi-mt') };

  it('trains two epochs on 40 sentences per corpus and exports two single-head bundles', async () => {
    const corpus = join(dir, 'corpus.txt');
    const w2v = join(dir, 'w2v.kv');
    const lines = readFileSync(dataPath('corpus/biomed_sentences.txt'), 'utf8').split('\n').slice(0, 200);
    writeFileSync(corpus, lines.join('\n') + '\n');
    // A tree laid out like the shared data; jnlpba and ebmnlp have no `all` split (fallback to 500).
    const root = join(dir, 'data');
    for (const ds of corpora) {
      const split = existsSync(dataPath('ner', ds, 'all', 'train.conll')) ? 'all' : '500';
      sliceConll(dataPath('ner', ds, split, 'train.conll'), 40, join(root, 'ner', ds, split, 'train.conll'));
      sliceConll(dataPath('ner', ds, 'dev.conll'), 20, join(root, 'ner', ds, 'dev.conll'));
    }
    await runTrain([
      'ner-multitask',
      '--data-root',
      root,
      '--export',
      `bc5cdr=${heads.bc5cdr},ncbi=${heads.ncbi}`,
      '--w2v',
      w2v,
      '--corpus',
      corpus,
      '--w2v-max-lines',
      '200',
      '--verify-out',
      join(dir, 'verify'),
      '--epochs',
      '2',
      '--max-steps',
      '20',
      '--seed',
      '1',
      '--hidden',
      '32',
      '--temperature',
      '2',
      '--lr-decay',
      '0.9',
      // both tokenizations of every training sentence (corpus + the engine's `split`), as ner.py can
      '--retokenize',
      'split',
      '--retokenize-mode',
      'add',
    ]);
    const b = JSON.parse(readFileSync(join(heads.bc5cdr, 'model.json'), 'utf8')) as Meta;
    const n = JSON.parse(readFileSync(join(heads.ncbi, 'model.json'), 'utf8')) as Meta;
    expect(b.labels).toEqual(['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']);
    expect(n.labels).toEqual(['O', 'B-Disease', 'I-Disease']);
    for (const [head, meta] of [
      ['bc5cdr', b],
      ['ncbi', n],
    ] as const) {
      expect(meta.decoder).toBe('crf');
      expect(meta.name).toBe(`ner-${head}-mt`);
      expect(meta.provenance.recipe).toBe('training/multitask.py');
      expect(meta.provenance.command).toContain('npm run train -- ner-multitask');
      expect(meta.provenance.seed).toBe(1);
      const mt = meta.provenance.multitask;
      expect(mt.head).toBe(head);
      expect(JSON.stringify(meta.provenance)).toContain('re-tokenized: split, add');
      expect(Object.keys(mt.corpora)).toEqual(corpora);
      for (const ds of corpora) expect(mt.corpora[ds]!.train_sentences).toBe(80); // 40 x 2 tokenizations
      // equal sizes: temperature sampling is uniform
      for (const ds of corpora) expect(mt.corpora[ds]!.sampling_p).toBeCloseTo(0.2, 3);
      expect(Object.keys(mt.dev_f1_at_best_epoch).sort()).toEqual(['bc5cdr', 'ncbi']);
      expect(mt.steps).toBe(20);
      expect(meta.training.epochs_run).toBe(2);
      expect(meta.training.history).toHaveLength(2);
      // The card's figures come from the engine's evaluation of the head's 20 dev sentences.
      expect(meta.metrics.dev.sentences).toBe(20);
      expect(readFileSync(join(heads[head], 'README.md'), 'utf8')).toContain('eval ner --model');
      // What bundleSawData reads: its own training file, and the other corpora's (the shared encoder saw them).
      expect(meta.provenance.train).toBe(`ner/${head}/all/train.conll`);
      expect(meta.provenance.training).toBe('train');
      expect(meta.provenance.texts).toContain('pubtator/cdr_train.pubtator');
      expect(meta.provenance.texts).not.toContain(meta.provenance.train);
      expect(meta.provenance.texts).toHaveLength(corpora.length);
    }
    const other = join(root, 'ner', 'bc5cdr', 'all', 'train.conll');
    expect(bundleSawData(heads.ncbi, other)).toMatch(/not held out/);
    expect(bundleSawData(heads.ncbi, join(root, 'ner', 'ncbi', 'dev.conll'))).toBeNull();
    // One shared encoder: both bundles carry the same vocabularies.
    for (const f of ['tokenizer.json', 'chars.json'])
      expect(readFileSync(join(heads.bc5cdr, f), 'utf8')).toBe(readFileSync(join(heads.ncbi, f), 'utf8'));
  }, 150_000);

  it('rejects an exported head that is not among the corpora, before any training', async () => {
    await expect(
      runTrain(['ner-multitask', '--data', 'bc5cdr,ncbi', '--export', 'bc2gm=/tmp/never-written']),
    ).rejects.toThrow(TrainUsageError);
    await expect(runTrain(['ner-multitask', '--data', 'ncbi,ncbi'])).rejects.toThrow(/twice/);
    await expect(
      runTrain(['ner-multitask', '--data', 'bc5cdr,ncbi', '--lm-init', '/nonexistent/enc.pt']),
    ).rejects.toThrow(/--lm-init \/nonexistent\/enc.pt does not exist/);
  });

  for (const head of ['bc5cdr', 'ncbi'] as const) {
    it(`${head} head: ONNX matches PyTorch emissions; the engine loads and evaluates the bundle`, async () => {
      const out = heads[head];
      const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as Meta;
      const { dims, batch, maxDiff } = await onnxVsReference(out, join(dir, 'verify', `ner-${head}-mt.json`));
      expect(dims).toEqual([...batch, meta.labels.length]);
      expect(maxDiff).toBeLessThan(1e-2);

      const tagger = await loadTagger(out);
      try {
        const tokens = ['Cisplatin', '-', 'induced', 'nephrotoxicity', 'in', '12', 'rats', '.'];
        const [r] = await tagger.predict([{ tokens }, { tokens: ['Aspirin'] }]);
        expect(r!.tags).toHaveLength(tokens.length);
        for (const t of r!.tags) expect(meta.labels).toContain(t);
        // eval ner on the head's dev slice reproduces the card's figure
        const ev = await evalNer(tagger, { data: join(dir, 'data', 'ner', head, 'dev.conll'), tagColumn: 2 });
        expect(ev.sentences).toBe(20);
        expect(Math.round(ev.f1 * 100) / 100).toBe(meta.metrics.dev.f1);
      } finally {
        await tagger.close?.();
      }
    }, 60_000);
  }
});
