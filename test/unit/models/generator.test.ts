import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenerator, type Generator } from '../../../src/models/seq2seq/generator.ts';

const dir = join(import.meta.dirname, '../../fixtures/models/seq2seq');
type Seq = { tokenIds: number[]; score: number };
type BeamCfg = {
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean;
  numReturnSequences: number;
  maxNewTokens: number;
};
type Ref = {
  maxNewTokens: number;
  beam4: BeamCfg;
  beam3np: BeamCfg;
  cases: { text: string; inputIds: number[]; greedy: Seq; beam4: Seq[]; beam3np: Seq[] }[];
};
const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Ref;
const eos = 2;
const noEos = (ids: number[]): number[] => (ids[ids.length - 1] === eos ? ids.slice(0, -1) : ids);

describe('seq2seq generator (bart.py fixture, Optimum layout)', () => {
  let gen: Generator;
  beforeAll(async () => {
    gen = await createGenerator(dir, { stepId: 'test-gen' });
  });
  afterAll(() => gen.dispose());

  it('tokenizes inputs to the reference ids (<s> ... </s>)', () => {
    for (const c of ref.cases) expect(gen.encode(c.text)).toEqual(c.inputIds);
  });

  for (const useCache of [true, false]) {
    it(`greedy is token-identical to PyTorch, batched (useCache=${useCache})`, async () => {
      const out = await gen.generate(
        ref.cases.map((c) => c.text),
        { strategy: 'greedy', maxNewTokens: ref.maxNewTokens, useCache },
      );
      out.forEach((o, i) => {
        const r = ref.cases[i]!.greedy;
        expect(o[0]!.tokenIds).toEqual(noEos(r.tokenIds));
        expect(o[0]!.score).toBeCloseTo(r.score, 3);
      });
    });
  }

  for (const key of ['beam4', 'beam3np'] as const) {
    it(`beam search (${key}) is token-identical to the PyTorch reference, with scores`, async () => {
      const cfg = ref[key];
      const out = await gen.generate(
        ref.cases.map((c) => c.text),
        { strategy: 'beam', ...cfg },
      );
      out.forEach((o, i) => {
        const r = ref.cases[i]![key];
        expect(o.map((x) => x.tokenIds)).toEqual(r.map((x) => noEos(x.tokenIds)));
        o.forEach((x, k) => expect(x.score).toBeCloseTo(r[k]!.score, 3));
      });
    });
  }

  it('beam without cache equals beam with cache', async () => {
    const texts = ref.cases.map((c) => c.text);
    const a = await gen.generate(texts, {
      strategy: 'beam',
      numBeams: 3,
      maxNewTokens: 8,
      numReturnSequences: 2,
    });
    const b = await gen.generate(texts, {
      strategy: 'beam',
      numBeams: 3,
      maxNewTokens: 8,
      numReturnSequences: 2,
      useCache: false,
    });
    expect(b.map((o) => o.map((x) => x.tokenIds))).toEqual(a.map((o) => o.map((x) => x.tokenIds)));
  });

  it('decodes text without bos/eos/pad', async () => {
    const [o] = await gen.generate(['colorectal cancer patients'], { maxNewTokens: 12 });
    expect(o![0]!.text).toBe('colorectal cancer patients');
  });

  it('sampling is reproducible by seed and varies with it', async () => {
    const texts = ref.cases.map((c) => c.text);
    const opts = {
      strategy: 'sample' as const,
      topK: 5,
      topP: 0.95,
      temperature: 2.5,
      numReturnSequences: 3,
      maxNewTokens: 10,
    };
    const a = await gen.generate(texts, { ...opts, seed: 7 });
    const b = await gen.generate(texts, { ...opts, seed: 7 });
    const c = await gen.generate(texts, { ...opts, seed: 8 });
    expect(b).toEqual(a);
    expect(c.map((o) => o.map((x) => x.tokenIds))).not.toEqual(a.map((o) => o.map((x) => x.tokenIds)));
    // The same input alone gives the same samples as inside a batch (rng per input index and sample).
    const alone = await gen.generate([texts[0]!], { ...opts, seed: 7 });
    expect(alone[0]).toEqual(a[0]);
  });

  it('top-k = 1 sampling equals greedy', async () => {
    const texts = ref.cases.map((c) => c.text);
    const s = await gen.generate(texts, { strategy: 'sample', topK: 1, seed: 3, maxNewTokens: 12 });
    const g = await gen.generate(texts, { strategy: 'greedy', maxNewTokens: 12 });
    expect(s.map((o) => o[0]!.tokenIds)).toEqual(g.map((o) => o[0]!.tokenIds));
  });

  it('ignoreEos forces maxNewTokens', async () => {
    const out = await gen.generate(['treated'], { maxNewTokens: 9, ignoreEos: true });
    expect(out[0]![0]!.tokenIds).toHaveLength(9);
    expect(out[0]![0]!.tokenIds).not.toContain(eos);
  });

  it('allowedLabelTokensOnly never generates other special tokens', async () => {
    const tok = gen.bundle.tokenizer;
    const blocked = ['<s>', '<pad>', '<unk>', '<mask>'].map((t) => tok.token_to_id(t)!);
    const out = await gen.generate(
      ref.cases.map((c) => c.text),
      {
        strategy: 'sample',
        temperature: 5,
        seed: 1,
        numReturnSequences: 4,
        maxNewTokens: 12,
        allowedLabelTokensOnly: true,
      },
    );
    for (const o of out) for (const x of o) for (const id of x.tokenIds) expect(blocked).not.toContain(id);
  });

  it('requiredSpans writes the given entities in order, and no other label token, under any strategy', async () => {
    const tok = gen.bundle.tokenizer;
    const labels = new Set(['<b-disease>', '<i-disease>'].map((t) => tok.token_to_id(t)!));
    const strip = (ids: number[]): number[] => ids.filter((x) => x !== 0 && x !== eos);
    const spans = [
      strip(gen.encode('<b-disease> colon <b-disease> <i-disease> cancer <i-disease>')),
      strip(gen.encode('<b-disease> asthma <b-disease>')),
    ];
    expect(spans.every((s) => labels.has(s[0]!))).toBe(true);
    const inputs = ['<mask> treated <mask>', ref.cases[0]!.text];
    const strategies = [
      { strategy: 'sample' as const, temperature: 3, seed: 7, numReturnSequences: 3 },
      { strategy: 'greedy' as const },
      { strategy: 'beam' as const, numBeams: 3, numReturnSequences: 2 },
    ];
    for (const s of strategies) {
      const out = await gen.generate(inputs, {
        ...s,
        maxNewTokens: 30,
        allowedLabelTokensOnly: true,
        requiredSpans: [spans, spans.slice(1)],
      });
      out.forEach((o, i) => {
        const want = i === 0 ? spans : spans.slice(1);
        for (const x of o) {
          // the spans appear in order, and every label token of the output belongs to one of them
          let pos = 0;
          const covered = new Set<number>();
          for (const sp of want) {
            let at = -1;
            for (let j = pos; j + sp.length <= x.tokenIds.length && at < 0; j++)
              if (sp.every((id, k) => x.tokenIds[j + k] === id)) at = j;
            expect(at, `${s.strategy}: ${x.text}`).toBeGreaterThanOrEqual(0);
            for (let k = 0; k < sp.length; k++) covered.add(at + k);
            pos = at + sp.length;
          }
          x.tokenIds.forEach((id, j) => {
            if (labels.has(id)) expect(covered.has(j), `${s.strategy}: stray label in ${x.text}`).toBe(true);
          });
        }
      });
    }
    const word = strip(gen.encode('treated'));
    expect(labels.has(word[0]!)).toBe(false);
    await expect(gen.generate(['a'], { requiredSpans: [[word]] })).rejects.toThrow(
      /must start with a label token/,
    );
    await expect(gen.generate(['a', 'b'], { requiredSpans: [[]] })).rejects.toThrow(/1 entries for 2 inputs/);
  });

  it('rejects bad options and inputs naming the step', async () => {
    await expect(gen.generate(['a'], { strategy: 'nucleus' as 'greedy' })).rejects.toThrow(
      /test-gen.*strategy/,
    );
    await expect(
      gen.generate(['a'], { strategy: 'beam', numBeams: 2, numReturnSequences: 3 }),
    ).rejects.toThrow(/numReturnSequences/);
    await expect(gen.generateIds([[]])).rejects.toThrow(/test-gen: input 0 is empty/);
    // the fixture decoder has 32 positions: generation stops after 31 new tokens
    const long = await gen.generate(['a'], { maxNewTokens: 100, ignoreEos: true });
    expect(long[0]![0]!.tokenIds).toHaveLength(31);
  });
});

describe('merged decoder (decoder_model_merged.onnx with use_cache_branch)', () => {
  it('greedy and beam match the PyTorch reference', async () => {
    const gen = await createGenerator(join(import.meta.dirname, '../../fixtures/models/seq2seq-merged'));
    try {
      expect(gen.bundle.merged).toBe(true);
      const texts = ref.cases.map((c) => c.text);
      const g = await gen.generate(texts, { maxNewTokens: ref.maxNewTokens });
      g.forEach((o, i) => expect(o[0]!.tokenIds).toEqual(noEos(ref.cases[i]!.greedy.tokenIds)));
      const b = await gen.generate(texts, { strategy: 'beam', ...ref.beam4 });
      b.forEach((o, i) =>
        expect(o.map((x) => x.tokenIds)).toEqual(ref.cases[i]!.beam4.map((x) => noEos(x.tokenIds))),
      );
    } finally {
      await gen.dispose();
    }
  });
});

describe('broken seq2seq bundles', () => {
  it('names the missing decoder files', async () => {
    const { mkdtempSync, cpSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const d = mkdtempSync(join(tmpdir(), 'h5-s2s-'));
    try {
      cpSync(dir, d, { recursive: true });
      rmSync(join(d, 'decoder_model.onnx'));
      await expect(createGenerator(d)).rejects.toThrow(
        /decoder_model\.onnx: missing \(expected decoder_model\.onnx/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
