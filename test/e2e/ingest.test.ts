import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDeadLetters } from '../../src/engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology } from '../../src/engine/runner.ts';
import type {
  AugmentedSentence,
  NerPrediction,
  PubmedArticle,
  RelationTriple,
  TrainingPair,
} from '../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../src/io/dataPath.ts';
import { parsePubtator, pubtatorToArticle } from '../../src/text/pubtator.ts';
import { build, resolve as resolveIngest } from '../../topologies/ingest.ts';

const fx = (name: string): string => resolve(projectRoot, 'test/fixtures/models', name);

function sampleArticles(): PubmedArticle[] {
  return parsePubtator(
    readFileSync(resolve(projectRoot, 'topologies/samples/abstracts.pubtator'), 'utf8'),
  ).map((d) => pubtatorToArticle(d, { gold: false }));
}

describe('ingest topology (in-memory source and sinks, real ONNX models)', () => {
  it('emits predictions for every sentence, relations, augmentations and training pairs, and acks every abstract', async () => {
    const articles = sampleArticles();
    const dlq = new MemoryDeadLetters();
    const source = new MemorySource<PubmedArticle>('abstracts', articles, {
      maxInFlight: 3,
      deadLetters: dlq,
      keyOf: (v) => (v as PubmedArticle).pmid,
    });
    const sinks = {
      predictions: new MemorySink<NerPrediction>('predictions'),
      relations: new MemorySink<RelationTriple>('relations'),
      augmented: new MemorySink<AugmentedSentence>('augmented'),
      pairs: new MemorySink<TrainingPair>('pairs'),
    };
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
    await runTopology({
      sources: { abstracts: source },
      sinks,
      build: (s, k) => build(s, k, inputs),
      config: {},
      handleSignals: false,
    }).done;

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
