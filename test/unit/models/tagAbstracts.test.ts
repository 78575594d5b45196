import { resolve } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Settlement } from '../../../src/engine/envelope.ts';
import type { PubmedArticle } from '../../../src/io/avro/types.generated.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { defaultModel } from '../../../src/models/modelStepConfig.ts';
import { nerModelOf, tagAbstracts, TagAbstractsConfig } from '../../../src/models/tagAbstracts.ts';
import { envelopes, sampleArticles } from '../../helpers/setup.ts';

const fixtureModel = resolve(projectRoot, 'test/fixtures/models/crf-tagger');

describe('tagAbstracts: the NER steps the abstract topologies share', () => {
  it('has a default for every field and names the shipped NER bundle by default', () => {
    const c = TagAbstractsConfig.parse({});
    expect(c).toMatchObject({ requireAbstract: true, tokenizerStyle: 'split', bridgeHyphens: true });
    expect(nerModelOf(c)).toBe(defaultModel('ner-bc5cdr'));
    expect(nerModelOf(TagAbstractsConfig.parse({ ner: { model: fixtureModel } }))).toBe(fixtureModel);
    expect(() => TagAbstractsConfig.parse({ nerr: {} })).toThrow(/nerr/);
  });

  it('gives one normalized document per abstract, offsets into title + " " + abstract; nacks an empty abstract', async () => {
    const good = sampleArticles().slice(0, 3);
    const articles: PubmedArticle[] = [...good, { ...good[0]!, pmid: '1', abstract: ' ' }];
    const settled: Settlement[] = [];
    const c = TagAbstractsConfig.parse({ ner: { model: fixtureModel, maxBatch: 4 } });
    const docs = await lastValueFrom(
      from(envelopes(articles, { settled, keyOf: (a) => a.pmid })).pipe(tagAbstracts(c), toArray()),
    );
    expect(docs.map((d) => d.value.pmid)).toEqual(good.map((a) => a.pmid));
    for (const d of docs) {
      const a = good.find((x) => x.pmid === d.value.pmid)!;
      expect(d.value.text).toBe(`${a.title} ${a.abstract}`);
      expect(d.value.sentences.map((s) => s.index)).toEqual(d.value.sentences.map((_, i) => i));
      for (const s of d.value.sentences) {
        expect(d.value.text.slice(s.start, s.end)).toBe(s.text);
        for (const e of s.entities) {
          expect(e.end).toBeGreaterThan(e.start);
          // Normalization ran: every entity has a concept answer (an id, or -1 under the threshold).
          expect((e as { conceptId?: string }).conceptId).toEqual(expect.any(String));
        }
      }
      d.ack.ack();
    }
    expect(settled.slice(0, 3).map((s) => s.failures)).toEqual([[], [], []]);
    expect(settled[3]!.failures.map((f) => f.stepId)).toEqual(['validate-article']);
  });
});
