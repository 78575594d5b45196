import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type {
  AugmentedSentence,
  NerPrediction,
  PubmedArticle,
  RelationTriple,
  TrainingPair,
} from '../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../src/io/dataPath.ts';
import { build, resolve as resolveIngest } from '../../topologies/ingest.ts';
import { runInMemory, sampleArticles } from '../helpers/setup.ts';

const fx = (name: string): string => resolve(projectRoot, 'test/fixtures/models', name);

describe('ingest topology (in-memory source and sinks, real ONNX models)', () => {
  it('emits predictions for every sentence, relations, augmentations and training pairs, and acks every abstract', async () => {
    const articles = sampleArticles();
    const inputs = await resolveIngest({
      ner: { model: fx('crf-tagger') },
      keywords: { model: fx('crf-tagger') },
      relations: { model: fx('relations') },
      minRelationProbability: 0,
      // Every CID candidate: the fixture tagger's entities say nothing of the model's quality.
      minCidProbability: 0,
      augmentOnlyWithEntities: false,
      bioaug: { generator: { model: fx('seq2seq') }, n: 1, maxNewTokens: 8 },
    });
    const {
      sinks,
      deadLetters: dlq,
      source,
    } = await runInMemory<
      PubmedArticle,
      {
        predictions: NerPrediction;
        relations: RelationTriple;
        augmented: AugmentedSentence;
        pairs: TrainingPair;
      }
    >({
      source: 'abstracts',
      records: articles,
      keyOf: (a) => a.pmid,
      maxInFlight: 3,
      sinks: ['predictions', 'relations', 'augmented', 'pairs'],
      build: (s, k) => build(s, k, inputs),
    });

    expect(dlq.records).toEqual([]);
    expect(source.acked.length).toBe(articles.length);
    const preds = sinks.predictions.items.map((i) => i.value);
    expect(new Set(preds.map((p) => p.pmid))).toEqual(new Set(articles.map((a) => a.pmid)));
    const sentenceIds = new Set(preds.map((p) => p.id));
    // One augmentation and one training pair per sentence, keyed after it.
    expect(new Set(sinks.augmented.items.map((i) => i.value.sourceId))).toEqual(sentenceIds);
    // Quality scores (issue 17): the agreement tagger defaults to the NER step's bundle.
    for (const { value } of sinks.augmented.items)
      if (value.valid) expect(value.taggerAgreement).toEqual(expect.any(Number));
      else expect([value.rejectReason, value.quality]).toEqual([expect.any(String), 0]);
    expect(new Set(sinks.pairs.items.map((i) => i.value.sourceId))).toEqual(sentenceIds);
    for (const { value } of sinks.pairs.items) expect(value.target.length).toBeGreaterThan(0);
    expect(sinks.relations.items.length).toBeGreaterThan(0);
    const docs = new Map(articles.map((a) => [a.pmid, `${a.title} ${a.abstract}`]));
    // The relations output carries document-level CID relations between MeSH concepts (models/cid-relations).
    for (const { key, value } of sinks.relations.items) {
      expect(key).toBe(`${value.sourceId}:cid:${value.head.conceptId}:${value.tail.conceptId}`);
      expect(value).toMatchObject({ relation: 'CID', modelId: 'cid-relations' });
      expect([value.head.type, value.tail.type]).toEqual(['Chemical', 'Disease']);
      expect(value.evidence.length).toBeGreaterThan(0);
      const doc = docs.get(value.sourceId)!;
      expect(doc.slice(value.head.start, value.head.end)).toBe(value.head.text);
      expect(doc.slice(value.tail.start, value.tail.end)).toBe(value.tail.text);
    }
    // Entities of the types the normalizer knows carry a concept id (a MeSH id or -1), the others null.
    const ents = preds.flatMap((p) => p.entities);
    for (const e of ents)
      if (e.type === 'Chemical' || e.type === 'Disease')
        expect(e.conceptId).toMatch(/^(?:-1|[CD]\d+(?:\|[CD]\d+)*)$/);
      else expect(e.conceptId).toBeNull();
  });
});
