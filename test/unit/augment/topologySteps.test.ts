import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { corruptSentences } from '../../../src/augment/bioaug/corruptSentences.ts';
import {
  silverSentenceOf,
  silverTrainingPairs,
  toSilverSentences,
  type AnnotatedSentence,
} from '../../../src/augment/bioaug/silverSentences.ts';
import { augmentedRecordOf, toAugmentedRecord } from '../../../src/augment/toAugmentedRecord.ts';
import { makeCopy, type SentenceToAugment } from '../../../src/augment/types.ts';
import { toLabeledSentence, validateSentence } from '../../../src/augment/validateSentence.ts';
import { type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { hash32 } from '../../../src/engine/rng.ts';
import { TopologyInputError } from '../../../src/engine/topology.ts';
import { envelopes } from '../../helpers/setup.ts';

const envs = <T>(
  values: T[],
  settled: Settlement[] = [],
  keyOf?: (v: T, i: number) => string,
): Envelope<T>[] => envelopes(values, { settled, ...(keyOf ? { keyOf } : {}) });

async function collect<A, B>(
  values: A[],
  op: (s: ReturnType<typeof from<Envelope<A>[]>>) => import('rxjs').Observable<Envelope<B>>,
  keyOf?: (v: A, i: number) => string,
) {
  const settled: Settlement[] = [];
  const out = await lastValueFrom(op(from(envs(values, settled, keyOf))).pipe(toArray()));
  for (const e of out) e.ack.ack();
  return { out, settled };
}

const s: SentenceToAugment = {
  id: 'doc:0',
  tokens: ['Colorectal', 'cancer', 'cases', 'rose', 'in', 'eastern', 'England'],
  tags: ['B-Disease', 'I-Disease', 'O', 'O', 'O', 'O', 'O'],
  keywords: ['B', 'I', 'O', 'O', 'O', 'B', 'I'],
};

describe('validateSentence', () => {
  it('converts a valid record (keyword column, source line kept) and dead-letters invalid ones', async () => {
    const good = { id: 'a', tokens: ['x', 'y'], tags: ['B-X', 'I-X'], keywordTags: ['O', 'B'], line: 7 };
    const { out, settled } = await collect(
      [
        good,
        { id: '', tokens: ['x'], tags: ['O'] },
        { id: 'b', tokens: ['x'], tags: ['O', 'O'] },
        { id: 'c', tokens: [], tags: [] },
        { id: 'd', tokens: ['x'], tags: ['I-X'] },
        { id: 'e', tokens: ['x'], tags: ['O'], keywordTags: ['O', 'O'] },
      ],
      (x) => x.pipe(validateSentence()),
    );
    expect(out.map((e) => e.value)).toEqual([
      { id: 'a', tokens: ['x', 'y'], tags: ['B-X', 'I-X'], keywords: ['O', 'B'], line: 7 },
    ]);
    expect(settled.slice(1).map((r) => r.failures[0]!.error.message)).toEqual([
      'validate-sentence: sentence without an id',
      'validate-sentence: b: tokens and tags must be arrays of equal length',
      'validate-sentence: c: empty sentence',
      'validate-sentence: d: invalid BIO tag "I-X" at token 0',
      'validate-sentence: e: keywordTags length differs from tokens',
    ]);
    expect(settled[1]!.failures[0]).toMatchObject({ stage: 'operator', stepId: 'validate-sentence' });
    expect(() => toLabeledSentence({ id: 'z', tokens: [], tags: [] }, 'v')).toThrow(TopologyInputError);
  });
});

describe('toAugmentedRecord', () => {
  it('writes the copy as the AugmentedSentence record, fields in schema order, stamped', async () => {
    const copy = makeCopy(s, 'sis', 'sis', 1, 3, { tokens: ['cancer', 'Colorectal'], tags: ['O', 'O'] });
    const before = Date.now();
    const r = augmentedRecordOf(copy);
    expect(Object.keys(r)).toEqual([
      'id',
      'sourceId',
      'method',
      'seed',
      'modelId',
      'tokens',
      'tags',
      'valid',
      'newTokenShare',
      'lengthDiff',
      'generatedText',
      'createdAt',
      'meanLogProb',
      'taggerAgreement',
      'quality',
      'rejectReason',
    ]);
    expect(r).toMatchObject({
      id: 'doc:0:sis:1',
      sourceId: 'doc:0',
      seed: 3,
      lengthDiff: -5,
      newTokenShare: 0,
      // Not generated, no tagger: quality is the length fit alone, exp(-5/7) for 2 of 7 tokens kept.
      meanLogProb: null,
      taggerAgreement: null,
      rejectReason: null,
    });
    expect(r.quality).toBeCloseTo(Math.exp(-5 / 7), 12);
    expect(r.createdAt).toBeGreaterThanOrEqual(before);
    const { out } = await collect([copy], (x) => x.pipe(toAugmentedRecord()));
    expect(out[0]!.key).toBe('k0');
    expect('n' in out[0]!.value).toBe(false);
  });
});

describe('corruptSentences: the one corruption operator', () => {
  it('gives each copy its generation seed, a hash of (seed, sentence id, n), whatever the arrival order', async () => {
    const t = { ...s, id: 'doc:1' };
    const a = await collect(
      [s, t],
      (x) => x.pipe(corruptSentences({ n: 3, seed: 11 })),
      (v) => v.id,
    );
    const b = await collect(
      [t, s],
      (x) => x.pipe(corruptSentences({ n: 3, seed: 11 })),
      (v) => v.id,
    );
    for (const e of a.out)
      expect(e.value.seed).toBe(hash32(`11:${e.value.sourceId}:${e.value.n}`) & 0x7fffffff);
    const byId = (o: typeof a.out) => Object.fromEntries(o.map((e) => [e.value.id, e.value]));
    expect(byId(a.out)).toEqual(byId(b.out));
    expect(a.settled).toEqual([{ failures: [] }, { failures: [] }]);
  });

  it('a sentence it cannot corrupt is dead-lettered under its step id with stage augment', async () => {
    const noKeywords = { id: 'doc:2', tokens: ['a', 'b'], tags: ['B-X', 'O'] };
    const { out, settled } = await collect([noKeywords], (x) =>
      x.pipe(corruptSentences({ stepId: 'bioaug-corrupt', n: 2 })),
    );
    expect(out).toEqual([]);
    expect(settled[0]!.failures).toMatchObject([{ stage: 'augment', stepId: 'bioaug-corrupt' }]);
    expect(settled[0]!.failures[0]!.error.message).toMatch(/no keyword column/);
  });

  it('allows up to 1000 copies', () => {
    expect(() => corruptSentences({ n: 1000 })).not.toThrow();
    expect(() => corruptSentences({ n: 1001 })).toThrow();
  });
});

describe('silver sentences (ingest)', () => {
  const annotated: AnnotatedSentence = {
    pmid: '7',
    index: 2,
    tokens: ['Cisplatin', 'induced', 'acute', 'renal', 'failure'],
    tags: ['B-Chemical', 'O', 'B-Disease', 'I-Disease', 'I-Disease'],
    entities: [
      { tokenStart: 0, tokenEnd: 1 },
      { tokenStart: 2, tokenEnd: 5 },
    ],
    keywords: [{ tokenStart: 1, tokenEnd: 2 }],
    relations: [
      { head: [0, 1], tail: [2, 5], label: 'chemical_induces_disease', probability: 0.9 },
      { head: [2, 5], tail: [0, 1], label: 'NA', probability: 0.99 },
    ],
  };
  const empty: AnnotatedSentence = { ...annotated, index: 3, tags: ['O', 'O', 'O', 'O', 'O'], entities: [] };

  it('silverSentenceOf writes the keyword spans as a B/I column', () => {
    expect(silverSentenceOf(annotated)).toEqual({
      id: '7:2',
      tokens: annotated.tokens,
      tags: annotated.tags,
      keywords: ['O', 'B', 'O', 'O', 'O'],
    });
  });

  it('toSilverSentences drops (acks) sentences without entities unless asked to keep them', async () => {
    const a = await collect([annotated, empty], (x) => x.pipe(toSilverSentences()));
    expect(a.out.map((e) => e.key)).toEqual(['7:2']);
    expect(a.settled).toEqual([{ failures: [] }, { failures: [] }]);
    const b = await collect([annotated, empty], (x) =>
      x.pipe(toSilverSentences({ onlyWithEntities: false })),
    );
    expect(b.out.map((e) => e.key)).toEqual(['7:2', '7:3']);
  });

  it('silverTrainingPairs: n pairs keyed <key>:pair:<n>, knowledge verbalized from kept relations', async () => {
    const { out, settled } = await collect(
      [annotated, empty],
      (x) =>
        x.pipe(
          silverTrainingPairs({
            n: 2,
            seed: 5,
            verbalize: { chemical_induces_disease: 'induces' },
            // Keep every phrase so the knowledge is found.
            corrupt: { mu: 1, sd: 0 },
          }),
        ),
      (v) => `${v.pmid}:${v.index}`,
    );
    expect(out.map((e) => e.key)).toEqual(['7:2:pair:0', '7:2:pair:1']);
    for (const { value } of out) {
      expect(value.sourceId).toBe('7:2');
      expect(value.input).toContain('</s> Cisplatin induces acute renal failure');
      expect(value.input).not.toContain('NA');
      expect(value.target).toBe(
        '<b-chemical> Cisplatin <b-chemical> induced <b-disease> acute <b-disease> <i-disease> renal <i-disease> <i-disease> failure <i-disease>',
      );
    }
    expect(settled).toEqual([{ failures: [] }, { failures: [] }]);
    const none = await collect([annotated], (x) => x.pipe(silverTrainingPairs({ n: 0 })));
    expect(none.out).toEqual([]);
    expect(none.settled).toEqual([{ failures: [] }]);
  });
});
