// Trains the word2vec, NER and keyword recipes for a few steps on tiny slices of the shared data,
// exports bundles into a temp dir and runs them through the engine's NER runtime.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { dataPath } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { loadTagger } from '../../src/cli/loadTagger.ts';
import { runTrain } from '../../training/run.ts';
import { bundleSawData } from '../../src/models/bundleProvenance.ts';
import { sliceConll, tempDir } from '../helpers/setup.ts';
import { onnxVsReference } from '../helpers/onnxReference.ts';

const skip = skipWithoutSharedData('training-smoke');

describe.skipIf(skip)('training recipes (smoke)', () => {
  const dir = tempDir('h6a-smoke-');
  const corpus = join(dir, 'corpus.txt');
  const w2v = join(dir, 'w2v.kv');

  it('word2vec trains on 200 corpus lines', async () => {
    const lines = readFileSync(dataPath('corpus/biomed_sentences.txt'), 'utf8').split('\n').slice(0, 200);
    writeFileSync(corpus, lines.join('\n') + '\n');
    await runTrain(['word2vec', '--corpus', corpus, '--w2v', w2v, '--seed', '1']);
    expect(existsSync(w2v)).toBe(true);
  }, 60_000);

  for (const recipe of ['ner', 'keywords'] as const) {
    it(`${recipe}: trains a few steps, exports a bundle the runtime loads and runs`, async () => {
      const src = recipe === 'ner' ? 'ner/bc5cdr/all/train.conll' : 'keywords/ncbi/all/train.tsv';
      const devSrc = recipe === 'ner' ? 'ner/bc5cdr/dev.conll' : 'keywords/ncbi/dev.tsv';
      const train = sliceConll(dataPath(src), 20, join(dir, `${recipe}-train.conll`), { crlf: true });
      const dev = sliceConll(dataPath(devSrc), 20, join(dir, `${recipe}-dev.conll`), { crlf: true });
      const out = join(dir, `${recipe}-bundle`);
      await runTrain(
        [
          recipe,
          '--train',
          train,
          '--dev',
          dev,
          '--out',
          out,
          '--w2v',
          w2v,
          '--corpus',
          corpus,
          '--verify-out',
          join(dir, `${recipe}.verify.json`),
        ]
          .concat(['--max-steps', '3', '--epochs', '1', '--seed', '1'])
          // NER also exercises training on both tokenizations (corpus + engine's `split`) with lr decay
          .concat(
            recipe === 'ner'
              ? ['--retokenize', 'split', '--retokenize-mode', 'add', '--lr-decay', '0.9']
              : [],
          ),
      );
      const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
        labels: string[];
        decoder: string;
        metrics: { dev: { f1: number; sentences: number } };
        provenance: { command: string };
      };
      expect(meta.decoder).toBe('crf');
      expect(meta.labels[0]).toBe('O');
      if (recipe === 'keywords') expect(meta.labels).toEqual(['O', 'B-KEY', 'I-KEY']);
      else expect(meta.labels).toEqual(['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']);
      // The card's figures come from the engine-side evaluation of the 20 dev sentences.
      expect(meta.metrics.dev.sentences).toBe(20);
      expect(meta.metrics.dev.f1).toBeGreaterThanOrEqual(0);
      expect(meta.provenance.command).toContain(`npm run train -- ${recipe}`);
      if (recipe === 'ner') {
        expect(JSON.stringify(meta.provenance)).toContain('re-tokenized: split, add');
        // provenance says what the bundle saw, so eval ner / eval pubtator can say when figures are not held out
        expect(meta.provenance).toMatchObject({ training: 'train' });
        expect(bundleSawData(out, train)).toMatch(/\(train build\)/);
        expect(bundleSawData(out, dev)).toBeNull();
        // --with-dev: dev joins the training data, the last epoch is kept, the provenance says train+dev
        const both = join(dir, 'ner-bundle-with-dev');
        await runTrain(
          [
            'ner',
            '--train',
            train,
            '--dev',
            dev,
            '--out',
            both,
            '--w2v',
            w2v,
            '--no-eval',
            '--with-dev',
          ].concat([
            '--verify-out',
            join(dir, 'ner-with-dev.verify.json'),
            '--max-steps',
            '2',
            '--epochs',
            '1',
          ]),
        );
        const withDev = JSON.parse(readFileSync(join(both, 'model.json'), 'utf8')) as {
          provenance: { training: string; data: string };
        };
        expect(withDev.provenance.training).toBe('train+dev');
        expect(withDev.provenance.data).toContain('ner-dev.conll');
        expect(bundleSawData(both, dev)).toMatch(/train\+dev build/);
        await expect(
          runTrain(['ner', '--train', train, '--dev', dev, '--with-dev', '--select', 'best']),
        ).rejects.toThrow(/--select best cannot apply/);
      }
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('eval ner --model');
      const tokenizer = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as {
        model: { type: string; vocab: Record<string, number> };
      };
      expect(tokenizer.model.type).toBe('WordLevel');
      // The HF tokenizer library reads the file and applies the training normaliser (lowercase, digits -> 0).
      const hf = new Tokenizer(tokenizer as unknown as object, {});
      const enc = hf.encode('The patients 12', { add_special_tokens: false });
      expect(enc.tokens).toEqual(['the', 'patients', '00']);
      for (const [i, t] of enc.tokens.entries())
        expect(enc.ids[i]).toBe(tokenizer.model.vocab[t] ?? tokenizer.model.vocab['[UNK]']);

      // The ONNX export reproduces PyTorch's emissions (fp16 embeddings: small tolerance).
      const { maxDiff } = await onnxVsReference(out, join(dir, `${recipe}.verify.json`));
      expect(maxDiff).toBeLessThan(1e-2);

      const tagger = await loadTagger(out);
      try {
        const tokens = ['Cisplatin', '-', 'induced', 'nephrotoxicity', 'in', '12', 'rats', '.'];
        const [res] = await tagger.predict([{ tokens }, { tokens: ['Aspirin'] }]);
        expect(res!.tags).toHaveLength(tokens.length);
        for (const t of res!.tags) expect(meta.labels).toContain(t);
      } finally {
        await tagger.close?.();
      }
    }, 90_000);
  }
});
