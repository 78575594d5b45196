import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import {
  backend,
  batching,
  defaultModel,
  ModelStepConfig,
  modelIdOf,
} from '../../../src/models/modelStepConfig.ts';
import { bridgeHyphenTags, bridgeHyphens, type TaggedWords } from '../../../src/models/ner/bridgeHyphens.ts';
import { tagEntities } from '../../../src/models/ner/tagEntities.ts';
import { predictionOf, toPrediction } from '../../../src/models/ner/toPrediction.ts';
import { toTaggerInput, type TaggedSentence } from '../../../src/models/ner/toTaggerInput.ts';
import { splitSentences } from '../../../src/text/splitSentences.ts';
import { tokenizeWords } from '../../../src/text/tokenizeWords.ts';
import { validateArticle } from '../../../src/text/validateArticle.ts';
import { envelopes } from '../../helpers/setup.ts';

const fx = join(import.meta.dirname, '../../fixtures/models');

const envs = <T>(
  values: T[],
  settled: Settlement[] = [],
  keyOf?: (v: T, i: number) => string,
): Envelope<T>[] => envelopes(values, { settled, ...(keyOf ? { keyOf } : {}) });

describe('ModelStepConfig', () => {
  it('has defaults, rejects unknown fields, and splits into batching and backend parts', () => {
    const c = ModelStepConfig.parse({});
    // concurrency and worker stay unset, so each operator's own default holds (NER: 2, on a worker thread).
    expect(c).toEqual({ maxBatch: 32, maxWaitMs: 10, providers: ['cpu'], threads: 0 });
    expect(() => ModelStepConfig.parse({ batch: 8 })).toThrow();
    expect(() => ModelStepConfig.parse({ providers: ['tpu'] })).toThrow();
    const d = ModelStepConfig.parse({ model: '/m/ner', maxBatch: 8, threads: 2, providers: ['cuda', 'cpu'] });
    expect(batching(d)).toEqual({ maxBatch: 8, maxWaitMs: 10 });
    expect(backend(d)).toEqual({ executionProviders: ['cuda', 'cpu'], intraOpNumThreads: 2 });
    const e = ModelStepConfig.parse({ concurrency: 1, worker: false });
    expect(batching(e)).toEqual({ maxBatch: 32, maxWaitMs: 10, concurrency: 1 });
    expect(backend(e)).toEqual({ executionProviders: ['cpu'], intraOpNumThreads: 0, worker: false });
  });

  it('names models by their folder, and finds the shipped defaults under models/', () => {
    expect(modelIdOf('/x/models/ner-bc5cdr/')).toBe('ner-bc5cdr');
    expect(modelIdOf('generator')).toBe('generator');
    expect(defaultModel('keywords')).toBe(join(import.meta.dirname, '../../../models/keywords'));
  });
});

describe('bridgeHyphens', () => {
  // "5-HT levels": the hyphen split off by the tokenizer, tagged O between two Chemical parts.
  const tokens = ['5', '-', 'HT', 'levels', 'and', 'anti', '-', 'HT'];
  const offsets: [number, number][] = [
    [0, 1],
    [1, 2],
    [2, 4],
    [5, 11],
    [12, 15],
    [16, 20],
    [21, 22],
    [23, 25],
  ];
  const tags = ['B-Chemical', 'O', 'B-Chemical', 'O', 'O', 'B-Chemical', 'O', 'B-Chemical'];
  const scores = [0.9, 0.5, 0.7, 1, 1, 0.8, 0.5, 0.6];
  const entities = [
    { start: 0, end: 1, type: 'Chemical', score: 0.9, tokenStart: 0, tokenEnd: 1 },
    { start: 2, end: 4, type: 'Chemical', score: 0.7, tokenStart: 2, tokenEnd: 3 },
    { start: 16, end: 20, type: 'Chemical', score: 0.8, tokenStart: 5, tokenEnd: 6 },
    { start: 23, end: 25, type: 'Chemical', score: 0.6, tokenStart: 7, tokenEnd: 8 },
  ];

  it('joins the parts around a glued hyphen into one entity; a spaced hyphen stays', () => {
    const r = bridgeHyphenTags(tokens, offsets, tags, scores, entities);
    expect(r.tags).toEqual([
      'B-Chemical',
      'I-Chemical',
      'I-Chemical',
      'O',
      'O',
      'B-Chemical',
      'O',
      'B-Chemical',
    ]);
    // One entity over the three tokens, scored by their mean tag score.
    expect(r.entities[0]).toEqual({
      start: 0,
      end: 4,
      type: 'Chemical',
      score: expect.closeTo(0.7, 9) as number,
      tokenStart: 0,
      tokenEnd: 3,
    });
    expect(r.entities.slice(1).map((e) => [e.start, e.end])).toEqual([
      [16, 20],
      [23, 25],
    ]);
  });

  it('leaves parts of different types, or nothing to bridge, unchanged', () => {
    const mixed = ['B-Chemical', 'O', 'B-Disease'];
    const off = offsets.slice(0, 3);
    const r = bridgeHyphenTags(tokens.slice(0, 3), off, mixed, scores, entities.slice(0, 2));
    expect(r.tags).toEqual(mixed);
    expect(r.entities).toEqual(entities.slice(0, 2));
  });

  it('as an operator: bridges each sentence, or passes it through when disabled', async () => {
    const s: TaggedWords = { tokens, offsets, tags, tagScores: scores, entities };
    const on = await lastValueFrom(from(envs([s])).pipe(bridgeHyphens(), toArray()));
    const off = await lastValueFrom(from(envs([s])).pipe(bridgeHyphens({ enabled: false }), toArray()));
    expect(on[0]!.value.entities).toHaveLength(3);
    expect(off[0]!.value).toBe(s);
    expect(() => bridgeHyphens({ enable: true } as never)).toThrow();
  });
});

describe('toTaggerInput and toPrediction', () => {
  const sentence: TaggedSentence = {
    pmid: '42',
    index: 1,
    start: 20,
    end: 43,
    text: 'Cisplatin induced pain.',
    tokens: ['Cisplatin', 'induced', 'pain', '.'],
    offsets: [
      [20, 29],
      [30, 37],
      [38, 42],
      [42, 43],
    ],
    tags: ['B-Chemical', 'O', 'B-Disease', 'O'],
    tagScores: [0.9, 0.8, 0.7, 0.95],
    entities: [
      { start: 20, end: 29, type: 'Chemical', score: 0.9, tokenStart: 0, tokenEnd: 1 },
      { start: 38, end: 42, type: 'Disease', score: 0.7, tokenStart: 2, tokenEnd: 3 },
    ],
  };

  it('toTaggerInput keeps the sentence and turns Token objects into words and offsets', async () => {
    const tokenized = {
      pmid: '42',
      index: 0,
      start: 5,
      end: 14,
      text: 'Aspirin .',
      tokens: [
        { text: 'Aspirin', start: 5, end: 12 },
        { text: '.', start: 13, end: 14 },
      ],
    };
    const out = await lastValueFrom(from(envs([tokenized])).pipe(toTaggerInput(), toArray()));
    expect(out[0]!.value).toEqual({
      pmid: '42',
      index: 0,
      start: 5,
      end: 14,
      text: 'Aspirin .',
      tokens: ['Aspirin', '.'],
      offsets: [
        [5, 12],
        [13, 14],
      ],
    });
  });

  it('predictionOf slices entity text from the sentence, or from the document when given', () => {
    const p = predictionOf(sentence, 'ner-x');
    expect(p).toMatchObject({
      id: '42:1',
      pmid: '42',
      sentenceIndex: 1,
      sentenceStart: 20,
      sentenceEnd: 43,
      tokenStarts: [20, 30, 38, 42],
      tokenEnds: [29, 37, 42, 43],
      tokenScores: [0.9, 0.8, 0.7, 0.95],
      modelId: 'ner-x',
    });
    expect(p.entities.map((e) => [e.text, e.type, e.start, e.end])).toEqual([
      ['Cisplatin', 'Chemical', 20, 29],
      ['pain', 'Disease', 38, 42],
    ]);
    const doc = 'x'.repeat(20) + 'CISPLATIN induced PAIN.';
    expect(predictionOf(sentence, 'ner-x', () => doc).entities.map((e) => e.text)).toEqual([
      'CISPLATIN',
      'PAIN',
    ]);
  });

  it('toPrediction keeps key and ack token, and needs a model id', async () => {
    const settled: Settlement[] = [];
    const out = await lastValueFrom(
      from(envs([sentence], settled)).pipe(toPrediction({ modelId: 'm' }), toArray()),
    );
    expect(out[0]!.key).toBe('k0');
    expect(out[0]!.value.modelId).toBe('m');
    out[0]!.ack.ack();
    expect(settled).toEqual([{ failures: [] }]);
    expect(() => toPrediction({} as never)).toThrow();
  });
});

describe('the NER steps chained on a real CRF bundle', () => {
  it('article -> sentences -> words -> tags -> predictions with document offsets; a bad article is dead-lettered', async () => {
    const settled: Settlement[] = [];
    const articles = [
      {
        pmid: '1',
        title: 'Cisplatin induced nephrotoxicity in rats.',
        abstract: 'Cisplatin induced nephrotoxicity in rats.',
      },
      { pmid: '', title: 'no id', abstract: 'text' },
    ];
    const out = await lastValueFrom(
      from(envs(articles, settled)).pipe(
        validateArticle(),
        splitSentences(),
        tokenizeWords({ style: 'split', offsets: 'document' }),
        toTaggerInput(),
        tagEntities({ model: join(fx, 'crf-tagger'), maxBatch: 4, maxWaitMs: 1 }),
        bridgeHyphens(),
        toPrediction({ modelId: 'crf-tagger' }),
        toArray(),
      ),
    );
    for (const e of out) e.ack.ack();
    const doc = `${articles[0]!.title} ${articles[0]!.abstract}`;
    expect(out.map((e) => e.key)).toEqual(['1:0', '1:1']);
    for (const { value } of out) {
      value.tokens.forEach((t, i) => expect(doc.slice(value.tokenStarts[i], value.tokenEnds[i])).toBe(t));
      for (const e of value.entities) expect(doc.slice(e.start, e.end)).toBe(e.text);
    }
    // The fixture tags this sentence as in its reference: Cisplatin a Chemical.
    expect(out[0]!.value.tags[0]).toBe('B-Chemical');
    expect(settled[0]).toEqual({ failures: [] });
    expect(settled[1]!.failures).toMatchObject([{ stage: 'operator', stepId: 'validate-article' }]);
  });
});
