// Trains the word2vec, NER and keyword recipes for a few steps on tiny slices of the shared data,
// exports bundles into a temp dir and runs them through the engine's NER runtime.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { CharVocab, WordVocab } from '../../src/models/tokenizer.ts';
import { dataPath } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { loadTagger } from '../../src/cli/loadTagger.ts';
import { runTrain } from '../../training/run.ts';
import { runPseudoLabelRecipe } from '../../training/pseudoLabel.ts';
import { parseConll } from '../../src/text/conll.ts';
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
                  // two epochs, their weights averaged (kept only if dev says so)
                  .concat(['--epochs', '2', '--max-steps', '20', '--average-last', '2'])
                  // language-model pretraining of the encoder on the corpus slice (lib/lmpretrain.py)
                  // its cache given relative to where the command runs (Python runs in training/)
                  .concat(['--lm-corpus', corpus, '--lm-max-steps', '3'])
                  .concat(['--lm-cache', relative(process.cwd(), join(dir, 'encoder.pt'))])
                  // the pretrained encoder fine-tuned at half the tagger's learning rate
                  .concat(['--encoder-lr-scale', '0.5'])
                  // the language model's own seed (several tagger seeds can share one encoder)
                  .concat(['--lm-seed', '3'])
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
        const averaged = (meta as unknown as { training: { averaged?: { epochs: number; kept: boolean } } })
          .training.averaged;
        expect(averaged?.epochs).toBe(2);
        expect(typeof averaged?.kept).toBe('boolean');
        const lm = (
          meta as unknown as {
            training: {
              lm_pretraining?: { steps: number; sentences: number; corpus: string[]; seed: number };
              encoder_lr_scale?: number;
            };
          }
        ).training.lm_pretraining;
        expect(
          (meta as unknown as { training: { encoder_lr_scale?: number } }).training.encoder_lr_scale,
        ).toBe(0.5);
        expect(lm?.steps).toBe(3);
        expect(lm?.sentences).toBeGreaterThan(100);
        expect(lm?.corpus).toEqual([corpus.split('/').slice(-2).join('/')]);
        expect(lm?.seed).toBe(3);
        expect(existsSync(join(dir, 'encoder.pt'))).toBe(true);
        expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(
          /Language-model pretraining[\s\S]*?\(seed 3\), 3 steps,[\s\S]*?at 0.5 times the tagger's learning rate/,
        );
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
        // A bad command line fails before any work: no word2vec is trained for it (on a fresh clone the
        // default vectors are missing, and training them on the whole corpus takes minutes).
        const never = join(dir, 'never-trained.kv');
        await expect(
          runTrain(['ner', '--train', train, '--dev', dev, '--with-dev', '--select', 'best', '--w2v', never]),
        ).rejects.toThrow(/--select best cannot apply/);
        await expect(
          runTrain(['keywords', '--train', train, '--dev', dev, '--lm-corpus', corpus, '--w2v', never]),
        ).rejects.toThrow(/--lm-corpus applies to the ner recipe only/);
        expect(existsSync(never)).toBe(false);
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

  it('ensemble: one bundle whose emissions and CRF are the means of its members (vocabularies joined)', async () => {
    // the train-only and the train + dev bundles of the NER test above: their vocabularies differ
    const members = [join(dir, 'ner-bundle'), join(dir, 'ner-bundle-with-dev')];
    const out = join(dir, 'ner-ensemble');
    await runTrain([
      'ensemble',
      ...members.flatMap((m) => ['--member', m]),
      '--out',
      out,
      '--dev',
      join(dir, 'ner-dev.conll'),
    ]);
    const read = <T>(d: string, f: string): T => JSON.parse(readFileSync(join(d, f), 'utf8')) as T;
    type Crf = { start: number[]; end: number[]; transitions: number[][] };
    const vocabs = [...members, out].map((d) =>
      Object.keys(read<{ model: { vocab: object } }>(d, 'tokenizer.json').model.vocab),
    );
    expect(new Set(vocabs[0]).size).not.toBe(new Set(vocabs[1]).size);
    expect(new Set(vocabs[2])).toEqual(new Set([...vocabs[0]!, ...vocabs[1]!]));
    const meta = read<{
      labels: string[];
      ensemble: { members: unknown[] };
      provenance: { training: string };
      metrics: { dev: { sentences: number } };
    }>(out, 'model.json');
    expect(meta.labels).toEqual(['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']);
    expect(meta.ensemble.members).toHaveLength(2);
    // a member saw dev, so the ensemble did: eval says so
    expect(meta.provenance.training).toBe('train+dev');
    expect(bundleSawData(out, join(dir, 'ner-dev.conll'))).toMatch(/train\+dev build/);
    expect(meta.metrics.dev.sentences).toBe(20);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('Ensemble of 2');
    // CRF: element-wise means
    const crfs = members.map((m) => read<Crf>(m, 'crf.json'));
    const crf = read<Crf>(out, 'crf.json');
    for (const k of ['start', 'end'] as const)
      crf[k].forEach((x, i) => expect(x).toBeCloseTo((crfs[0]![k][i]! + crfs[1]![k][i]!) / 2, 5));
    crf.transitions.forEach((row, i) =>
      row.forEach((x, j) =>
        expect(x).toBeCloseTo((crfs[0]!.transitions[i]![j]! + crfs[1]!.transitions[i]![j]!) / 2, 4),
      ),
    );
    // Emissions: each bundle fed with its own ids; the ensemble's = the mean of the members'.
    const tokens = ['Cisplatin', '-', 'induced', 'nephrotoxicity', 'in', '12', 'rats', 'Zyxwv', '.'];
    const emissions = async (d: string): Promise<Float32Array> => {
      const words = WordVocab.fromJson(read(d, 'tokenizer.json'), 'tokenizer.json');
      const chars = CharVocab.fromJson(read(d, 'chars.json'), 'chars.json');
      const C = chars.maxWordLength;
      const cid = new BigInt64Array(tokens.length * C);
      tokens.forEach((t, i) => chars.fill(t, cid, i * C));
      const session = await ort.InferenceSession.create(join(d, 'model.onnx'));
      try {
        const res = await session.run({
          word_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map((t) => words.bigId(t))), [
            1,
            tokens.length,
          ]),
          char_ids: new ort.Tensor('int64', cid, [1, tokens.length, C]),
          mask: new ort.Tensor('float32', new Float32Array(tokens.length).fill(1), [1, tokens.length]),
        });
        return res.emissions!.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const [a, b, e] = [await emissions(members[0]!), await emissions(members[1]!), await emissions(out)];
    expect(e).toHaveLength(tokens.length * 5);
    let maxDiff = 0;
    e.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - (a[i]! + b[i]!) / 2))));
    expect(maxDiff).toBeLessThan(1e-4);
    // the members disagree, so the mean is not one of them
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeGreaterThan(1e-3);
    const tagger = await loadTagger(out);
    try {
      const [res] = await tagger.predict([{ tokens }]);
      expect(res!.tags).toHaveLength(tokens.length);
    } finally {
      await tagger.close?.();
    }
    await expect(runTrain(['ensemble', '--member', members[0]!, '--out', join(dir, 'x')])).rejects.toThrow(
      /at least two/,
    );
  }, 90_000);

  it('pseudo-label: a teacher tags unlabeled sentences into CoNLL, seeded, never using an excluded sentence', async () => {
    const teacher = join(dir, 'ner-ensemble');
    const dev = join(dir, 'ner-dev.conll');
    const devFirst = parseConll(readFileSync(dev, 'utf8'), { source: dev })[0]!.tokens.join(' ');
    const lines = readFileSync(dataPath('corpus/biomed_sentences.txt'), 'utf8').split('\n').slice(0, 300);
    const input = join(dir, 'unlabeled.txt');
    // a dev sentence among the unlabeled ones must be left out; duplicates count once
    writeFileSync(input, [devFirst, ...lines, lines[0]].join('\n') + '\n');
    const run = async (out: string, seed: string) => {
      const summary = await runPseudoLabelRecipe([
        '--model',
        teacher,
        '--input',
        input,
        '--exclude',
        dev,
        '--out',
        out,
        '--max',
        '40',
        '--pool',
        '120',
        '--empty-share',
        '0.5',
        '--seed',
        seed,
      ]);
      if (!summary) throw new Error('pseudo-label returned no summary');
      return summary;
    };
    const a = await run(join(dir, 'pseudo-a.conll'), '1');
    const b = await run(join(dir, 'pseudo-b.conll'), '1');
    const c = await run(join(dir, 'pseudo-c.conll'), '2');
    expect(a.excluded).toBe(1);
    expect(a.kept).toBeLessThanOrEqual(40);
    expect(a.kept).toBeGreaterThan(0);
    const text = readFileSync(join(dir, 'pseudo-a.conll'), 'utf8');
    const sents = parseConll(text, { source: 'pseudo-a', columns: 2 });
    expect(sents).toHaveLength(a.kept);
    expect(sents.filter((x) => x.tags.some((t) => t !== 'O'))).toHaveLength(a.withEntities);
    expect(sents.map((x) => x.tokens.join(' '))).not.toContain(devFirst);
    for (const x of sents)
      expect(lines.map((l) => l.trim().split(/ +/).join(' '))).toContain(x.tokens.join(' '));
    // same seed, same file; another seed, another sample
    expect(readFileSync(join(dir, 'pseudo-b.conll'), 'utf8')).toBe(text);
    expect(b).toEqual({ ...a, out: join(dir, 'pseudo-b.conll') });
    expect(readFileSync(join(dir, 'pseudo-c.conll'), 'utf8')).not.toBe(text);
    expect(c.kept).toBeGreaterThan(0);
    await expect(runPseudoLabelRecipe(['--model', teacher])).rejects.toThrow(/--out/);
  }, 60_000);
});
