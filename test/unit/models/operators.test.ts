import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Envelope } from '../../../src/engine/envelope.ts';
import { extractKeywords } from '../../../src/models/keywords/extractKeywords.ts';
import { tagEntities } from '../../../src/models/ner/tagEntities.ts';
import { createTokenTagger, type TokenTagger } from '../../../src/models/ner/tokenTagger.ts';
import { classifyRelations } from '../../../src/models/relations/classifyRelations.ts';
import {
  createRelationClassifier,
  type RelationClassifier,
} from '../../../src/models/relations/relationClassifier.ts';
import { envelopes } from '../../helpers/setup.ts';

const fx = join(import.meta.dirname, '../../fixtures/models');
const crfRef = JSON.parse(readFileSync(join(fx, 'crf-tagger/reference.json'), 'utf8')) as {
  sentences: { tokens: string[]; tags: string[] }[];
};
const relRef = JSON.parse(readFileSync(join(fx, 'relations/reference.json'), 'utf8')) as {
  items: {
    tokens: string[];
    pairs: { head: [number, number]; tail: [number, number]; label: string; probs: number[] }[];
  }[];
};

const envs = <T>(values: T[]): Envelope<T>[] => envelopes(values, { keyOf: (_v, i) => `doc:${i}` });

describe('model operators over envelopes', () => {
  let crf: TokenTagger;
  let hf: TokenTagger;
  beforeAll(async () => {
    crf = await createTokenTagger(join(fx, 'crf-tagger'));
    hf = await createTokenTagger(join(fx, 'hf-token-cls'));
  });
  afterAll(async () => {
    await crf.dispose();
    await hf.dispose();
  });

  it('tagEntities (project CRF bundle) gives the reference Viterbi tags in input order', async () => {
    const many = Array.from({ length: 5 }, () => crfRef.sentences).flat();
    const out = await lastValueFrom(
      from(envs(many.map((s) => ({ tokens: s.tokens })))).pipe(
        tagEntities({ tagger: crf, maxBatch: 3, maxWaitMs: 5, concurrency: 2 }),
        toArray(),
      ),
    );
    // Keys are distinct, so buckets may reorder across keys; each output carries its input's key.
    expect(out).toHaveLength(many.length);
    for (const e of out) expect(e.value.tags).toEqual(many[Number(e.key!.slice(4))]!.tags);
    expect(new Set(out.map((e) => e.key)).size).toBe(many.length);
  });

  it('the Hugging Face bundle runs through the same operator and equals its direct predict', async () => {
    const sents = crfRef.sentences.map((s) => ({ tokens: s.tokens, id: s.tokens.length }));
    const out = await lastValueFrom(
      from(envs(sents)).pipe(
        tagEntities({ model: join(fx, 'hf-token-cls'), maxBatch: 2, maxWaitMs: 1 }),
        toArray(),
      ),
    );
    const direct = await hf.predict(sents);
    for (const e of out) {
      const i = Number(e.key!.slice(4));
      expect(e.value.tags).toEqual(direct[i]!.tags);
      expect(e.value.id).toBe(sents[i]!.id);
    }
  });

  it('extractKeywords returns phrases and can exclude gold entity spans', async () => {
    const sents = crfRef.sentences.map((s) => ({ tokens: s.tokens }));
    const all = await lastValueFrom(
      from(envs(sents)).pipe(extractKeywords({ tagger: crf, maxBatch: 4 }), toArray()),
    );
    const first = all[0]!.value.keywords;
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]!.text).toBe(sents[0]!.tokens.slice(first[0]!.tokenStart, first[0]!.tokenEnd).join(' '));
    const excl = await lastValueFrom(
      from(envs(sents)).pipe(
        extractKeywords({ tagger: crf, maxBatch: 4, excludeSpans: () => [[0, 1]] }),
        toArray(),
      ),
    );
    for (const e of excl) for (const k of e.value.keywords) expect(k.tokenStart).toBeGreaterThanOrEqual(1);
  });

  describe('relations', () => {
    let rel: RelationClassifier;
    beforeAll(async () => {
      rel = await createRelationClassifier(join(fx, 'relations'), { maxPairsPerSentence: 2 });
    });
    afterAll(() => rel.dispose());

    it('classifies pairs like PyTorch (probabilities within 1e-4), capping pairs per sentence', async () => {
      const out = await lastValueFrom(
        from(
          envs(
            relRef.items.map((it) => ({
              tokens: it.tokens,
              pairs: it.pairs.map(({ head, tail }) => ({ head, tail })),
            })),
          ),
        ).pipe(classifyRelations({ classifier: rel, maxBatch: 8 }), toArray()),
      );
      out.forEach((e, i) =>
        e.value.relations.forEach((r, k) => {
          const ref = relRef.items[i]!.pairs[k]!;
          if (k >= 2) {
            expect(r).toMatchObject({ label: null, skipped: 'cap' });
            return;
          }
          expect(r.label).toBe(ref.label);
          expect(Math.abs(r.probability - Math.max(...ref.probs))).toBeLessThan(1e-4);
        }),
      );
      expect(out[1]!.value.relations[2]!.skipped).toBe('cap');
    });

    it('rejects a span outside the sentence, naming it', async () => {
      await expect(
        rel.predict([{ tokens: ['a', 'b'], pairs: [{ head: [0, 1], tail: [1, 3] }] }]),
      ).rejects.toThrow(/relations: sentence 0 pair 0: span \[1, 3\)/);
    });
  });
});

describe('operator model loading', () => {
  it('a missing bundle folder fails the stream with the path', async () => {
    const src = from(envs([{ tokens: ['a'] }]));
    await expect(lastValueFrom(src.pipe(tagEntities({ model: join(fx, 'nope') })))).rejects.toThrow(
      /nope: folder does not exist/,
    );
  });
  it('needs a tagger or a model', () => {
    expect(() => tagEntities({})).toThrow(/ner: config needs/);
  });
});
