import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type Envelope, type Settlement } from '../../../src/engine/envelope.ts';
import { classifyRelations } from '../../../src/models/relations/classifyRelations.ts';
import { pairPhrases, phrasePairs } from '../../../src/models/relations/pairPhrases.ts';
import {
  isRelation,
  relationTriplesOf,
  toRelationTriples,
  type RelatedSentence,
} from '../../../src/models/relations/toRelationTriples.ts';
import { envelopes } from '../../helpers/setup.ts';

const fx = join(import.meta.dirname, '../../fixtures/models');

const envs = <T>(values: T[], settled: Settlement[] = []): Envelope<T>[] =>
  envelopes(values, { settled, keyOf: (_v, i) => `1:${i}` });

const span = (tokenStart: number, tokenEnd: number) => ({ tokenStart, tokenEnd });

// "Cisplatin induced nephrotoxicity in rats ." at document offset 10.
const base = {
  pmid: '1',
  index: 0,
  start: 10,
  end: 51,
  text: 'Cisplatin induced nephrotoxicity in rats .',
  tokens: ['Cisplatin', 'induced', 'nephrotoxicity', 'in', 'rats', '.'],
  offsets: [
    [10, 19],
    [20, 27],
    [28, 42],
    [43, 45],
    [46, 50],
    [51, 52],
  ] as [number, number][],
  tags: ['B-Chemical', 'O', 'B-Disease', 'O', 'O', 'O'],
  tagScores: [1, 1, 1, 1, 1, 1],
  entities: [
    { start: 10, end: 19, type: 'Chemical', score: 1, ...span(0, 1) },
    { start: 28, end: 42, type: 'Disease', score: 1, ...span(2, 3) },
  ],
  keywords: [{ start: 46, end: 50, type: 'keyword', score: 1, text: 'rats', ...span(4, 5) }],
};

describe('pairPhrases', () => {
  it('pairs entities with keywords first, then entities with each other, capped', () => {
    expect(phrasePairs(base, 24)).toEqual([
      { head: [0, 1], tail: [4, 5] },
      { head: [2, 3], tail: [4, 5] },
      { head: [0, 1], tail: [2, 3] },
      { head: [2, 3], tail: [0, 1] },
    ]);
    expect(phrasePairs(base, 3)).toHaveLength(3);
    expect(phrasePairs({ entities: [span(0, 1)], keywords: [] }, 24)).toEqual([]);
  });

  it('as an operator adds the pairs and rejects a bad cap', async () => {
    const out = await lastValueFrom(from(envs([base])).pipe(pairPhrases({ maxPairs: 1 }), toArray()));
    expect(out[0]!.value.pairs).toEqual([{ head: [0, 1], tail: [4, 5] }]);
    expect(() => pairPhrases({ maxPairs: 0 })).toThrow();
  });
});

describe('toRelationTriples', () => {
  const related: RelatedSentence = {
    ...base,
    relations: [
      { head: [0, 1], tail: [2, 3], label: 'induces', probability: 0.9 },
      { head: [2, 3], tail: [4, 5], label: 'NA', probability: 0.99 },
      { head: [0, 1], tail: [4, 5], label: 'treats', probability: 0.3 },
      { head: [0, 2], tail: [4, 5], label: 'treats', probability: 0.6 },
      { head: [2, 3], tail: [0, 1], label: null, probability: 0, skipped: 'cap' },
    ],
  };

  it('keeps labelled relations at or above the probability, with argument text, type and offsets', () => {
    expect(isRelation(related.relations[1]!, 0)).toBe(false);
    const triples = relationTriplesOf(related, 'rel-x', 0.5);
    expect(
      triples.map((t) => [t.sourceId, t.head.text, t.head.type, t.relation, t.tail.text, t.tail.type]),
    ).toEqual([
      ['1:0', 'Cisplatin', 'Chemical', 'induces', 'nephrotoxicity', 'Disease'],
      // A span that is neither an entity nor a keyword is a plain phrase.
      ['1:0', 'Cisplatin induced', 'phrase', 'treats', 'rats', 'keyword'],
    ]);
    expect(triples[0]!.head).toMatchObject({ start: 10, end: 19 });
    expect(triples[0]).toMatchObject({ probability: 0.9, modelId: 'rel-x' });
    expect(relationTriplesOf(related, 'rel-x', 0.2)).toHaveLength(3);
  });

  it('fans out keyed <sentence key>:rel:<i>; a sentence without relations is acked', async () => {
    const settled: Settlement[] = [];
    const out = await lastValueFrom(
      from(envs([related, { ...related, relations: [] }], settled)).pipe(
        toRelationTriples({ modelId: 'rel-x' }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.key)).toEqual(['1:0:rel:0', '1:0:rel:1']);
    for (const e of out) e.ack.ack();
    expect(settled).toEqual([{ failures: [] }, { failures: [] }]);
  });

  it('after pairPhrases and the real relation classifier, every triple names phrases of the sentence', async () => {
    const out = await lastValueFrom(
      from(envs([base])).pipe(
        pairPhrases(),
        classifyRelations({ model: join(fx, 'relations'), maxWaitMs: 1 }),
        toRelationTriples({ modelId: 'relations', minProbability: 0 }),
        toArray(),
      ),
    );
    const doc = ' '.repeat(10) + base.text;
    expect(out.length).toBeGreaterThan(0);
    for (const { value } of out) {
      expect(['induces', 'treats']).toContain(value.relation);
      for (const a of [value.head, value.tail]) expect(doc.slice(a.start, a.end)).toBe(a.text);
    }
  });
});
