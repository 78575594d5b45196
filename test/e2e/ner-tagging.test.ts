import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NerPrediction, PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../src/io/dataPath.ts';
import { build } from '../../topologies/ner-tagging.ts';
import { runInMemory, sampleArticles } from '../helpers/setup.ts';

const fixtureModel = resolve(projectRoot, 'test/fixtures/models/crf-tagger');

describe('ner-tagging topology (in-memory source and sink, real ONNX model)', () => {
  it('emits one prediction per sentence with offsets into title + " " + abstract, and dead-letters bad articles', async () => {
    const good = sampleArticles();
    const bad: PubmedArticle[] = [
      { ...good[0]!, pmid: '1', abstract: '   ' },
      { ...good[0]!, pmid: '', abstract: 'Text.' },
    ];
    const {
      sinks: { predictions: sink },
      deadLetters: dlq,
      source,
    } = await runInMemory<PubmedArticle, { predictions: NerPrediction }>({
      source: 'abstracts',
      records: [good[0]!, ...bad, ...good.slice(1)],
      keyOf: (a) => a.pmid,
      maxInFlight: 4,
      sinks: ['predictions'],
      build: (s, k) => build(s, k, { ner: { model: fixtureModel, maxBatch: 8 } }),
    });

    expect(source.acked.length).toBe(good.length);
    expect(dlq.records.map((r) => r.failures[0]!.stepId)).toEqual(['validate-article', 'validate-article']);
    expect(dlq.records[0]!.failures[0]!.error.message).toMatch(/empty abstract/);

    const byPmid = new Map<string, NerPrediction[]>();
    for (const { key, value } of sink.items) {
      expect(key).toBe(value.id);
      byPmid.set(value.pmid, [...(byPmid.get(value.pmid) ?? []), value]);
    }
    expect([...byPmid.keys()].sort()).toEqual(good.map((a) => a.pmid).sort());
    for (const a of good) {
      const doc = `${a.title} ${a.abstract}`;
      const preds = byPmid.get(a.pmid)!.sort((x, y) => x.sentenceIndex - y.sentenceIndex);
      expect(preds.map((p) => p.sentenceIndex)).toEqual(preds.map((_, i) => i));
      for (const p of preds) {
        expect(p.tags.length).toBe(p.tokens.length);
        p.tokens.forEach((t, i) => expect(doc.slice(p.tokenStarts[i], p.tokenEnds[i])).toBe(t));
        for (const e of p.entities) expect(doc.slice(e.start, e.end)).toBe(e.text);
        expect(p.modelId).toBe('crf-tagger');
      }
    }
  });
});
