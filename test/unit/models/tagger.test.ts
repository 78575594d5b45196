import { readFileSync, mkdtempSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, disposeBundle } from '../../../src/models/bundle.ts';
import { createTokenTagger, type TokenTagger } from '../../../src/models/ner/tokenTagger.ts';
import { ModelError } from '../../../src/models/errors.ts';

const fx = join(import.meta.dirname, '../../fixtures/models');
type CrfRef = { sentences: { tokens: string[]; wordIds: number[]; emissions: number[][]; tags: string[] }[] };
type HfRef = {
  sentences: { tokens: string[]; inputIds: number[]; logits: number[][]; tagsFirst: string[] }[];
};

function maxDiff(a: Float32Array, b: number[][]): number {
  const flat = b.flat();
  expect(a.length).toBe(flat.length);
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (flat[i] ?? 0)));
  return m;
}

describe('project-layout CRF tagger', () => {
  const ref = JSON.parse(readFileSync(join(fx, 'crf-tagger/reference.json'), 'utf8')) as CrfRef;
  let tagger: TokenTagger;
  beforeAll(async () => {
    tagger = await createTokenTagger(join(fx, 'crf-tagger'), { stepId: 'test-ner' });
  });
  afterAll(() => tagger.dispose());

  it('maps words through the tokenizer.json normalizer (lowercase, digits -> 0) to the reference ids', () => {
    const words = tagger.bundle.words!;
    for (const s of ref.sentences) expect(s.tokens.map((w) => words.id(w))).toEqual(s.wordIds);
  });

  it('emissions match PyTorch within 1e-4, including windowed long sentences', async () => {
    const ems = await tagger.emissions(ref.sentences.map((s) => ({ tokens: s.tokens })));
    expect(ref.sentences.some((s) => s.tokens.length > tagger.bundle.maxLength)).toBe(true);
    ems.forEach((em, i) => expect(maxDiff(em, ref.sentences[i]!.emissions)).toBeLessThan(1e-4));
  });

  it('Viterbi with BIO constraints equals the Python reference decode', async () => {
    const out = await tagger.predict(ref.sentences.map((s) => ({ tokens: s.tokens })));
    out.forEach((o, i) => expect(o.tags).toEqual(ref.sentences[i]!.tags));
    for (const o of out) {
      o.tags.forEach((t, i) => {
        if (t.startsWith('I-')) expect(o.tags[i - 1]?.slice(2)).toBe(t.slice(2));
      });
      for (const s of o.scores) expect(s).toBeGreaterThan(0);
    }
  });

  it('gives char offsets from token offsets', async () => {
    const text = 'Cisplatin induced nephrotoxicity in rats .';
    const tokens = text.split(' ');
    let p = 0;
    const offsets = tokens.map((t) => {
      const s = text.indexOf(t, p);
      p = s + t.length;
      return [s, p] as [number, number];
    });
    const [o] = await tagger.predict([{ tokens, offsets }]);
    expect(o!.entities.length).toBeGreaterThan(0);
    for (const e of o!.entities) {
      expect(text.slice(e.start, e.end)).toBe(tokens.slice(e.tokenStart, e.tokenEnd).join(' '));
    }
  });

  it('the same sentence gives the same tags alone or in a batch (padding does not leak)', async () => {
    const s = ref.sentences.map((x) => ({ tokens: x.tokens }));
    const batched = await tagger.predict(s);
    for (let i = 0; i < s.length; i++)
      expect((await tagger.predict([s[i]!]))[0]!.tags).toEqual(batched[i]!.tags);
  });

  it('rejects bad input with a typed error naming the step', async () => {
    await expect(tagger.predict([{ tokens: ['a', ''] }])).rejects.toThrow(/test-ner: sentence 0/);
    await expect(tagger.predict([{ tokens: ['a'], offsets: [] }])).rejects.toBeInstanceOf(ModelError);
  });
});

describe('Hugging Face Optimum token classifier', () => {
  const ref = JSON.parse(readFileSync(join(fx, 'hf-token-cls/reference.json'), 'utf8')) as HfRef;
  let tagger: TokenTagger;
  beforeAll(async () => {
    tagger = await createTokenTagger(join(fx, 'hf-token-cls'));
  });
  afterAll(() => tagger.dispose());

  it('loads labels from id2label and the window from config', () => {
    expect(tagger.bundle.layout).toBe('hf');
    expect(tagger.labels).toEqual(['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']);
    expect(tagger.bundle.maxLength).toBe(16);
  });

  it('WordPiece ids equal the reference, first-subword logits within 1e-4', async () => {
    const tok = tagger.bundle.subwords!;
    const ems = await tagger.emissions(ref.sentences.map((s) => ({ tokens: s.tokens })));
    ref.sentences.forEach((s, i) => {
      const ids = [...tok.prefix, ...s.tokens.flatMap((w) => tok.pieces(w)), ...tok.suffix];
      expect(ids).toEqual(s.inputIds);
      let k = 1;
      const first = s.tokens.map((w) => {
        const row = s.logits[k]!;
        k += tok.pieces(w).length;
        return row;
      });
      expect(maxDiff(ems[i]!, first)).toBeLessThan(1e-4);
    });
    const out = await tagger.predict(ref.sentences.map((s) => ({ tokens: s.tokens })));
    // argmax then BIO repair: the reference tags are raw argmax, equal wherever they are valid BIO.
    out.forEach((o, i) =>
      o.tags.forEach((t, j) => {
        const r = ref.sentences[i]!.tagsFirst[j]!;
        expect(t === r || (r.startsWith('I-') && t === `B-${r.slice(2)}`)).toBe(true);
      }),
    );
  });

  it('mean alignment averages the subword logits', async () => {
    const mean = await createTokenTagger(join(fx, 'hf-token-cls'), { alignment: 'mean' });
    try {
      const s = ref.sentences[0]!;
      const [em] = await mean.emissions([{ tokens: s.tokens }]);
      const tok = mean.bundle.subwords!;
      let k = 1;
      const expected = s.tokens.map((w) => {
        const n = tok.pieces(w).length;
        const rows = s.logits.slice(k, k + n);
        k += n;
        return rows[0]!.map((_, j) => rows.reduce((a, r) => a + r[j]!, 0) / n);
      });
      expect(maxDiff(em!, expected)).toBeLessThan(1e-4);
    } finally {
      await mean.dispose();
    }
  });

  it('windows a sentence longer than 16 subwords and tags every word', async () => {
    const words = 'cisplatin induced nephrotoxicity in rats'.split(' ');
    const long = Array.from({ length: 6 }, () => words).flat();
    const [o] = await tagger.predict([{ tokens: long }]);
    expect(o!.tags).toHaveLength(long.length);
    // Every copy of the sentence away from window edges sees the same context as a lone copy would not;
    // the check that matters: no word is dropped and scores are probabilities.
    for (const s of o!.scores) expect(s).toBeGreaterThan(0);
  });
});

describe('broken bundles', () => {
  const dirs: string[] = [];
  const copy = (name: string): string => {
    const d = mkdtempSync(join(tmpdir(), 'h5-bundle-'));
    dirs.push(d);
    cpSync(join(fx, name), d, { recursive: true });
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('missing model file names the file', async () => {
    const d = copy('crf-tagger');
    rmSync(join(d, 'model.onnx'));
    await expect(loadBundle(d)).rejects.toThrow(/model\.onnx: missing/);
  });

  it('labels in model.json vs emission dims', async () => {
    const d = copy('crf-tagger');
    const mj = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...mj, labels: ['O', 'B-X', 'I-X'] }));
    await expect(loadBundle(d)).rejects.toThrow(/(3x3 number matrix|5 classes but model\.json lists 3)/);
  });

  it('labels that are not BIO fail when the tagger opens, not on its first batch', async () => {
    const d = copy('crf-tagger');
    const mj = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as Record<string, unknown>;
    const labels = ['O', 'B-Chemical', 'E-Chemical', 'B-Disease', 'I-Disease'];
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...mj, labels }));
    const err = await createTokenTagger(d, { stepId: 'test-ner' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).message).toMatch(
      /test-ner: label "E-Chemical" .* is not BIO; valid labels: O, B-<type>, I-<type>/,
    );
  });

  it('unexpected output name lists the graph outputs', async () => {
    const d = copy('crf-tagger');
    const mj = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...mj, outputs: { emissions: 'scores' } }));
    await expect(loadBundle(d)).rejects.toThrow(/expected output "scores".*emissions/);
  });

  it('unknown decoder lists the valid ones', async () => {
    const d = copy('crf-tagger');
    const mj = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...mj, decoder: 'beam' }));
    await expect(loadBundle(d)).rejects.toThrow(/"decoder" must be one of crf, argmax, span/);
  });

  it('id2label gaps in an HF config', async () => {
    const d = copy('hf-token-cls');
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, id2label: { '0': 'O', '2': 'B-X' } }));
    await expect(loadBundle(d)).rejects.toThrow(/config\.json: id2label has a gap .* id 1/);
  });

  it('a folder with neither model.json nor config.json', async () => {
    const d = mkdtempSync(join(tmpdir(), 'h5-empty-'));
    dirs.push(d);
    await expect(loadBundle(d)).rejects.toThrow(/neither model\.json .* nor config\.json/);
  });

  it('task mismatch', async () => {
    await expect(loadBundle(join(fx, 'crf-tagger'), { task: 'seq2seq' })).rejects.toThrow(
      /expected a seq2seq bundle/,
    );
    const b = await loadBundle(join(fx, 'relations'));
    expect(b.task).toBe('relation-classification');
    await disposeBundle(b);
  });
});

describe('span-head bundle (nested entities)', () => {
  it('decodes the same nested spans as the Python reference, and flat BIO from the best of them', async () => {
    const ref = JSON.parse(readFileSync(join(fx, 'span-tagger/reference.json'), 'utf8')) as {
      sentences: { tokens: string[]; entities: [number, number, string, number][] }[];
    };
    const tagger = await createTokenTagger(join(fx, 'span-tagger'));
    try {
      expect(tagger.bundle.decoder).toBe('span');
      const out = await tagger.predict(ref.sentences.map((s) => ({ tokens: s.tokens })));
      out.forEach((o, i) => {
        const want = ref.sentences[i]!.entities;
        expect(o.entities.map((e) => [e.tokenStart, e.tokenEnd, e.type])).toEqual(
          want.map((e) => e.slice(0, 3)),
        );
        o.entities.forEach((e, k) => expect(e.score).toBeCloseTo(want[k]![3], 4));
        expect(o.tags).toHaveLength(ref.sentences[i]!.tokens.length);
      });
      const nested = out.flatMap((o) =>
        o.entities.filter((a) =>
          o.entities.some((b) => b !== a && b.tokenStart <= a.tokenStart && a.tokenEnd <= b.tokenEnd),
        ),
      );
      expect(nested.length).toBeGreaterThan(0);
    } finally {
      await tagger.dispose();
    }
  });
});

describe('tagger session on a worker thread (the default) or in-thread', () => {
  const bundles: [string, string[][]][] = [
    [
      'crf-tagger',
      (JSON.parse(readFileSync(join(fx, 'crf-tagger/reference.json'), 'utf8')) as CrfRef).sentences.map(
        (s) => s.tokens,
      ),
    ],
    [
      'hf-token-cls',
      (JSON.parse(readFileSync(join(fx, 'hf-token-cls/reference.json'), 'utf8')) as HfRef).sentences.map(
        (s) => s.tokens,
      ),
    ],
    [
      'span-tagger',
      (
        JSON.parse(readFileSync(join(fx, 'span-tagger/reference.json'), 'utf8')) as {
          sentences: { tokens: string[] }[];
        }
      ).sentences.map((s) => s.tokens),
    ],
  ];

  it.each(bundles)('%s: same emissions bit for bit and same predictions', async (name, sentences) => {
    const onWorker = await createTokenTagger(join(fx, name));
    const inThread = await createTokenTagger(join(fx, name), { backend: { worker: false } });
    try {
      expect(onWorker.bundle.session.onWorker).toBe(true);
      expect(inThread.bundle.session.onWorker).toBe(false);
      const batch = sentences.map((tokens) => ({ tokens }));
      if (name !== 'span-tagger') {
        const [a, b] = await Promise.all([onWorker.emissions(batch), inThread.emissions(batch)]);
        a.forEach((em, i) =>
          expect(Buffer.from(em.buffer, em.byteOffset, em.byteLength)).toEqual(
            Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength),
          ),
        );
      }
      expect(await onWorker.predict(batch)).toEqual(await inThread.predict(batch));
    } finally {
      await onWorker.dispose();
      await inThread.dispose();
    }
  });
});
