import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corruptSentence, drawShare, CorruptConfig } from '../../../src/augment/bioaug/corrupt.ts';
import { sketchToConll } from '../../../src/augment/bioaug/corruptSentences.ts';
import { delinearize } from '../../../src/augment/bioaug/delinearize.ts';
import { keywordColumnPhrases, selectKeywords } from '../../../src/augment/bioaug/keywords.ts';
import { silverKnowledge, verbalizeKnowledge } from '../../../src/augment/bioaug/knowledge.ts';
import { LabelVocabulary, MASK } from '../../../src/augment/bioaug/labels.ts';
import { linearize } from '../../../src/augment/bioaug/linearize.ts';
import { makeTrainingPair } from '../../../src/augment/bioaug/trainingPairs.ts';
import { readLabeled } from '../../../src/augment/corpus.ts';
import { createRng } from '../../../src/engine/rng.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { bioToSpans, entityTypes, isValidBio, repairBio } from '../../../src/text/bio.ts';
import { labeledSentence, TYPES } from './arbitraries.ts';

fc.configureGlobal({ seed: 20261122, numRuns: 200 });
const vocab = new LabelVocabulary(TYPES);
const skipData = skipWithoutSharedData('bioaug corpus checks');

describe('linearize / delinearize', () => {
  it('writes label tokens around every entity token', () => {
    expect(linearize(['colorectal', 'cancer', 'in', 'England'], ['B-Disease', 'I-Disease', 'O', 'O'])).toBe(
      '<b-disease> colorectal <b-disease> <i-disease> cancer <i-disease> in England',
    );
  });

  it('round-trips every generated sentence', () => {
    fc.assert(
      fc.property(labeledSentence, (s) => {
        const r = delinearize(linearize(s.tokens, s.tags), vocab, {
          expected: bioToSpans(s.tags).map((sp) => ({
            type: sp.type,
            tokens: s.tokens.slice(sp.start, sp.end),
          })),
        });
        expect(r).toEqual({ ok: true, tokens: s.tokens, tags: s.tags });
      }),
    );
  });

  it('returns typed failures instead of guessing labels', () => {
    const v = new LabelVocabulary(['Disease']);
    const reason = (t: string, o = {}) => {
      const r = delinearize(t, v, o);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason('')).toBe('empty');
    expect(reason('<s> </s>')).toBe('empty');
    expect(reason('<b-disease> cancer')).toBe('unbalanced-label');
    expect(reason('<b-disease> colon cancer <b-disease>')).toBe('unbalanced-label');
    expect(reason('<b-disease> cancer <i-disease>')).toBe('unbalanced-label');
    expect(reason('<b-gene> BRCA1 <b-gene>')).toBe('unknown-label');
    expect(reason('a <unk> b')).toBe('unknown-label');
    expect(reason('a <i-disease> cancer <i-disease>')).toBe('invalid-bio');
    expect(reason('a <mask> b')).toBe('mask-left');
    const expected = [{ type: 'Disease', tokens: ['colon', 'cancer'] }];
    expect(reason('<b-disease> colon <b-disease> <i-disease> tumor <i-disease>', { expected })).toBe(
      'entity-altered',
    );
    expect(reason('no entity at all', { expected })).toBe('entity-altered');
    const ok = delinearize(
      '<s> <b-disease> colon <b-disease> <i-disease> cancer <i-disease> grows </s> colon cancer is x',
      v,
      {
        expected,
      },
    );
    expect(ok).toEqual({
      ok: true,
      tokens: ['colon', 'cancer', 'grows'],
      tags: ['B-Disease', 'I-Disease', 'O'],
    });
  });

  it('reads special tokens a detokenizer glued to text as words of their own', () => {
    const v = new LabelVocabulary(['Disease']);
    expect(delinearize('the<b-disease> HD <b-disease>. <b-disease>HD<b-disease>)', v)).toEqual({
      ok: true,
      tokens: ['the', 'HD', '.', 'HD', ')'],
      tags: ['O', 'B-Disease', 'O', 'B-Disease', 'O'],
    });
    expect(delinearize('a<mask>b', v)).toMatchObject({ ok: false, reason: 'mask-left' });
  });

  it('refuses to linearize a word that looks like markup', () => {
    expect(() => linearize(['a', '<mask>'], ['O', 'O'])).toThrow(/token 1 "<mask>" collides/);
  });

  it.skipIf(skipData)('is the identity on every sentence of the five dev sets', () => {
    let total = 0;
    for (const ds of ['bc2gm', 'bc5cdr', 'ebmnlp', 'jnlpba', 'ncbi']) {
      // Read without repair: EBM-NLP dev has I-X after O; those must fail as invalid-bio, never mislabel.
      const sents = readLabeled(dataPath('ner', ds, 'dev.conll'), { repair: false });
      const v = new LabelVocabulary(entityTypes(sents.map((s) => s.tags)));
      let invalid = 0;
      for (const s of sents) {
        const valid = isValidBio(s.tags);
        const tags = valid ? s.tags : repairBio(s.tags);
        const r = delinearize(linearize(s.tokens, tags), v);
        if (
          !r.ok ||
          r.tokens.join('\u0001') !== s.tokens.join('\u0001') ||
          r.tags.join(' ') !== tags.join(' ')
        )
          throw new Error(`${ds} ${s.id} (line ${s.line}) does not round-trip: ${JSON.stringify(r)}`);
        if (!valid) {
          invalid++;
          const raw = delinearize(linearize(s.tokens, s.tags), v);
          expect(raw.ok ? 'ok' : raw.reason).toBe('invalid-bio');
        }
        total++;
      }
      if (ds !== 'ebmnlp') expect(invalid).toBe(0);
    }
    expect(total).toBe(2500 + 5330 + 10123 + 5641 + 923);
  });
});

describe('corruption', () => {
  it('keeps entities, keeps round(e*k) keywords, masks the rest with merged masks', () => {
    fc.assert(
      fc.property(labeledSentence, fc.nat(), (s, seed) => {
        const c = corruptSentence(s, createRng(seed));
        const kws = selectKeywords(s.tags, keywordColumnPhrases(s.keywords!));
        expect(c.keywords).toEqual(kws);
        // No keyword overlaps a gold entity.
        for (const k of kws) for (let i = k.start; i < k.end; i++) expect(s.tags[i]).toBe('O');
        const keptKw = c.kept.filter((k) => k.kind === 'keyword');
        if (kws.length > 0) {
          expect(c.share).toBeGreaterThanOrEqual(0);
          expect(c.share).toBeLessThanOrEqual(1);
          expect(keptKw).toHaveLength(Math.round(c.share * kws.length));
        } else expect(keptKw).toHaveLength(0);
        // Entities survive, linearized; no two masks in a row.
        const view = sketchToConll(c.sketch);
        expect(view.tags.filter((t) => t !== 'O')).toHaveLength(s.tags.filter((t) => t !== 'O').length);
        for (let i = 1; i < c.sketch.length; i++)
          expect(c.sketch[i] === MASK && c.sketch[i - 1] === MASK).toBe(false);
        // Everything that is neither entity nor kept keyword is masked.
        const keptTokens = c.kept.reduce((n, k) => n + k.end - k.start, 0);
        expect(view.tokens.filter((t) => t !== MASK)).toHaveLength(keptTokens);
        const unmasked = c.sketch.filter((t) => t !== MASK);
        if (unmasked.length > 0) expect(delinearize(unmasked.join(' '), vocab).ok).toBe(true);
        // Same seed, same corruption.
        expect(corruptSentence(s, createRng(seed))).toEqual(c);
      }),
    );
  });

  it('draws the keep share from N(mu, 1/k) with 1/k the variance, clipped to [0,1]', () => {
    const cfg = CorruptConfig.parse({});
    const rng = createRng(3);
    const draws = Array.from({ length: 20000 }, () => drawShare(100, cfg, rng));
    const mean = draws.reduce((a, b) => a + b) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(sd).toBeGreaterThan(0.095);
    expect(sd).toBeLessThan(0.105);
    const small = Array.from({ length: 2000 }, () => drawShare(1, cfg, rng));
    expect(small.filter((x) => x === 0 || x === 1).length).toBeGreaterThan(500);
    const resample = CorruptConfig.parse({ outOfRange: 'resample', sd: 0.1, mu: 0.7 });
    const r = Array.from({ length: 2000 }, () => drawShare(1, resample, rng));
    expect(r.every((x) => x > 0 && x < 1)).toBe(true);
  });

  it('verbalizes the top triples by probability after </s>, dropping NA and duplicates', () => {
    const v = verbalizeKnowledge(
      [
        { head: 'a', relation: 'r1', tail: 'b', probability: 0.2 },
        { head: 'a', relation: 'NA', tail: 'c', probability: 0.9 },
        { head: 'b', relation: 'r2', tail: 'c', probability: 0.8 },
        { head: 'b', relation: 'r2', tail: 'c', probability: 0.7 },
      ],
      5,
    );
    expect(v).toBe(' </s> b r2 c </s> a r1 b');
  });

  it('fails clearly without a keyword source', () => {
    expect(() => corruptSentence({ id: 'x:1', tokens: ['a'], tags: ['O'] }, createRng(1))).toThrow(
      /no keyword column and no keyword tagger.*valid keyword sources/,
    );
  });

  it.skipIf(skipData)('makes training pairs with silver knowledge on ncbi/100', () => {
    const sents = readLabeled(dataPath('keywords', 'ncbi', '100', 'train.tsv'), { keywordColumn: 4 });
    const kn = silverKnowledge(
      dataPath('relations', 'ncbi', '100', 'train_processed.json'),
      dataPath('relations', 'ncbi', '100', 'train_processed_precompute.json'),
    );
    let withKnowledge = 0;
    for (const s of sents) {
      const p = makeTrainingPair(s, 0, createRng(1).fork(s.id), { knowledge: kn });
      expect(p.target).toBe(linearize(s.tokens, s.tags));
      const [sketch, ...triples] = p.input.split(' </s> ');
      expect(triples.length).toBeLessThanOrEqual(5);
      if (triples.length > 0) withKnowledge++;
      const r = delinearize(
        sketch!
          .split(' ')
          .filter((t) => t !== MASK)
          .join(' '),
        new LabelVocabulary(['Disease']),
      );
      expect(r.ok).toBe(true);
    }
    expect(withKnowledge).toBeGreaterThan(70);
  });
});
