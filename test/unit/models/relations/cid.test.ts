import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { envelopes } from '../../../helpers/setup.ts';
import { MemoryDeadLetters } from '../../../../src/engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../../../src/engine/memory.ts';
import { createCidClassifier } from '../../../../src/models/relations/cidClassifier.ts';
import { cidDocumentFromPubtator, goldCid } from '../../../../src/models/relations/cidDocument.ts';
import {
  buildCidPrior,
  CID_FEATURES,
  cidCandidates,
  type CidDocument,
} from '../../../../src/models/relations/cidFeatures.ts';
import {
  extractCidRelations,
  type DocumentWithConcepts,
} from '../../../../src/models/relations/extractCidRelations.ts';
import { toCidRelations } from '../../../../src/models/relations/toCidRelations.ts';
import type { RelationTriple } from '../../../../src/io/avro/types.generated.ts';
import { parsePubtator } from '../../../../src/text/pubtator.ts';

const fixtures = join(import.meta.dirname, '../../../fixtures');
const bundle = join(fixtures, 'models/cid-relations');
const docs = parsePubtator(readFileSync(join(fixtures, 'io/cid-tiny.pubtator'), 'utf8'));

function doc(
  text: string,
  mentions: Array<[string, string, string]>,
  sentences?: Array<[number, number]>,
): CidDocument {
  let from = 0;
  return {
    pmid: '1',
    text,
    sentences: (sentences ?? [[0, text.length]]).map(([start, end]) => ({ start, end })),
    mentions: mentions.map(([m, type, conceptId]) => {
      const start = text.indexOf(m, from);
      from = start + 1;
      return { start, end: start + m.length, text: m, type, conceptId };
    }),
  };
}

describe('CID candidates', () => {
  it('pairs every chemical concept with every disease concept, pooling mentions within and across sentences', () => {
    const text = 'Cocaine-induced seizures. Later, haloperidol was given. Seizures recurred after cocaine.';
    const d = doc(
      text,
      [
        ['Cocaine', 'Chemical', 'C1'],
        ['seizures', 'Disease', 'D1'],
        ['haloperidol', 'Chemical', 'C2'],
        ['Seizures', 'Disease', 'D1'],
        ['cocaine', 'Chemical', 'C1'],
      ],
      [
        [0, 25],
        [26, 55],
        [56, text.length],
      ],
    );
    const { candidates, dropped } = cidCandidates(d);
    expect(dropped).toBe(0);
    expect(candidates.map((c) => `${c.chemical}-${c.disease}`).sort()).toEqual(['C1-D1', 'C2-D1']);
    const f = (c: string, name: string): number =>
      candidates.find((x) => x.chemical === c)!.features[CID_FEATURES.indexOf(name)]!;
    expect(f('C1', 'same_sentence')).toBe(1);
    expect(f('C1', 'pattern_chem_induced_dis')).toBe(1);
    expect(f('C2', 'same_sentence')).toBe(0);
    expect(f('C2', 'min_sentence_distance')).toBeCloseTo(0.1);
    expect(f('C1', 'chem_in_title')).toBe(1);
    const c1 = candidates.find((x) => x.chemical === 'C1')!;
    expect(c1.features).toHaveLength(CID_FEATURES.length);
    // Closest evidence first: the title's "Cocaine-induced seizures".
    expect(c1.evidence[0]).toMatchObject({
      chemicalSentence: 0,
      diseaseSentence: 0,
      chemicalStart: 0,
      diseaseStart: 16,
    });
  });

  it('composite ids count for each part; -1 and missing ids make no candidate; one entity type only gives none', () => {
    const d = doc('Gentamicin caused renal and hepatic toxicity and xyz.', [
      ['Gentamicin', 'Chemical', 'C1'],
      ['renal and hepatic toxicity', 'Disease', 'D1|D2'],
      ['xyz', 'Disease', '-1'],
    ]);
    expect(cidCandidates(d).candidates.map((c) => c.disease)).toEqual(['D1', 'D2']);
    const chemOnly = doc('Gentamicin and amikacin.', [
      ['Gentamicin', 'Chemical', 'C1'],
      ['amikacin', 'Chemical', 'C2'],
    ]);
    expect(cidCandidates(chemOnly).candidates).toEqual([]);
    const noIds = doc('Gentamicin caused toxicity.', [
      ['Gentamicin', 'Chemical', null as unknown as string],
      ['toxicity', 'Disease', 'D1'],
    ]);
    expect(cidCandidates(noIds).candidates).toEqual([]);
  });

  it('an abstract with hundreds of mentions stays bounded: pairs over maxPairs are counted, not scored', () => {
    const words = Array.from({ length: 300 }, (_, i) => (i % 2 ? `dis${i}` : `chem${i}`));
    const text = words.join(' ');
    const d = doc(
      text,
      words.map((w, i) => [w, i % 2 ? 'Disease' : 'Chemical', `${i % 2 ? 'D' : 'C'}${i}`]),
    );
    const { candidates, dropped } = cidCandidates(d, { maxPairs: 1000, maxEvidence: 2 });
    expect(candidates).toHaveLength(1000);
    expect(dropped).toBe(150 * 150 - 1000);
    for (const c of candidates) expect(c.evidence.length).toBeLessThanOrEqual(2);
  });

  it('the prior counts gold CID pairs and co-occurrences per abstract', () => {
    const gold = docs.map((d) => ({ doc: cidDocumentFromPubtator(d), cid: goldCid(d) }));
    const p = buildCidPrior(gold);
    expect(p.pairs['D008012\tD012640']).toEqual([1, 1]);
    expect(p.pairs['D001241\tD006261']).toEqual([0, 1]);
    expect(p.pairs['D005839\tD056486']).toEqual([1, 1]);
  });
});

describe('extractCidRelations operator (tiny model made by `npm run train -- cid` on the fixture)', () => {
  const withConcepts = (d: CidDocument): DocumentWithConcepts => ({
    pmid: d.pmid,
    text: d.text,
    sentences: d.sentences.map((s) => ({
      ...s,
      entities: d.mentions.filter((m) => m.start >= s.start && m.start < s.end),
    })),
  });

  it('scores every candidate of every abstract and equals the classifier called directly', async () => {
    const input = docs.map((d) => withConcepts(cidDocumentFromPubtator(d)));
    const out = await lastValueFrom(
      from(envelopes(input, { keyOf: (v) => v.pmid })).pipe(
        extractCidRelations({ model: bundle, maxBatch: 4, maxWaitMs: 1 }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.key)).toEqual(docs.map((d) => d.pmid));
    const cls = await createCidClassifier(bundle);
    const direct = await cls.predict(docs.map(cidDocumentFromPubtator));
    await cls.dispose();
    out.forEach((e, i) => {
      expect(e.value.cid.modelId).toBe('cid-relations');
      expect(e.value.cid.relations.map((r) => [r.chemical, r.disease])).toEqual(
        direct[i]!.relations.map((r) => [r.chemical, r.disease]),
      );
      e.value.cid.relations.forEach((r, k) => {
        expect(r.probability).toBeGreaterThanOrEqual(0);
        expect(r.probability).toBeLessThanOrEqual(1);
        expect(r.probability).toBeCloseTo(direct[i]!.relations[k]!.probability, 5);
      });
    });
    // The model learned something on its own training abstracts: gold pairs score above the others on average.
    const gold = new Set(docs.flatMap((d) => goldCid(d).map(([c, x]) => `${d.pmid}\t${c}\t${x}`)));
    const all = out.flatMap((e) => e.value.cid.relations);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const pos = all
      .filter((r) => gold.has(`${r.pmid}\t${r.chemical}\t${r.disease}`))
      .map((r) => r.probability);
    const neg = all
      .filter((r) => !gold.has(`${r.pmid}\t${r.chemical}\t${r.disease}`))
      .map((r) => r.probability);
    expect(mean(pos)).toBeGreaterThan(mean(neg));
  });

  it('an abstract without text goes to the dead letters; the others pass', async () => {
    const dlq = new MemoryDeadLetters();
    const good = withConcepts(cidDocumentFromPubtator(docs[0]!));
    const src = new MemorySource<DocumentWithConcepts>(
      'docs',
      [good, { pmid: 'bad', sentences: [] } as unknown as DocumentWithConcepts, good],
      { deadLetters: dlq },
    );
    const sink = new MemorySink<unknown>('out');
    await lastValueFrom(
      src
        .open()
        .pipe(extractCidRelations({ model: bundle, maxBatch: 8, maxWaitMs: 1 }), sink.write(), toArray()),
    );
    expect(sink.items).toHaveLength(2);
    expect(src.failed.map((f) => f.index)).toEqual([1]);
  });

  it('toCidRelations: one record per pair at or above the threshold, keyed by concepts, arguments on the closest mention pair', async () => {
    const input = docs.map((d) => withConcepts(cidDocumentFromPubtator(d)));
    const records = await lastValueFrom(
      from(envelopes(input, { keyOf: (v) => v.pmid })).pipe(
        extractCidRelations({ model: bundle }),
        toCidRelations({ minProbability: 0 }),
        toArray(),
      ),
    );
    const texts = new Map(input.map((d) => [d.pmid, d.text]));
    const candidates = input.reduce(
      (n, d) =>
        n +
        cidCandidates({
          ...d,
          mentions: d.sentences.flatMap((s) => s.entities.map((e) => ({ ...e, text: '' }))),
        }).candidates.length,
      0,
    );
    expect(records).toHaveLength(candidates);
    for (const { key, value } of records as Array<{ key: string | null; value: RelationTriple }>) {
      expect(key).toBe(`${value.sourceId}:cid:${value.head.conceptId}:${value.tail.conceptId}`);
      const text = texts.get(value.sourceId)!;
      expect(text.slice(value.head.start, value.head.end)).toBe(value.head.text);
      expect(text.slice(value.tail.start, value.tail.end)).toBe(value.tail.text);
      expect(value.evidence[0]).toMatchObject({ headStart: value.head.start, tailStart: value.tail.start });
    }
    const strict = await lastValueFrom(
      from(envelopes(input, { keyOf: (v) => v.pmid })).pipe(
        extractCidRelations({ model: bundle }),
        toCidRelations({ minProbability: 0.999999 }),
        toArray(),
      ),
    );
    expect(strict.length).toBeLessThan(records.length);
  });

  it('a bundle whose feature list differs from the engine is refused', async () => {
    await expect(createCidClassifier(join(fixtures, 'models/relations'))).rejects.toThrow(
      /cid-relations bundle/,
    );
  });
});
