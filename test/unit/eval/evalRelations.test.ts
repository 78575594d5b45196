// eval relations over the stream operators, on the synthetic CDR-style fixture: gold entities with the
// tiny CID model made by the recipe, and end to end with the shipped bundles (NER, normalization, CID).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalRelations, goldDocument } from '../../../src/cli/commands/evalRelations.ts';
import { readGoldArticles } from '../../../src/eval/evalPubtator.ts';
import { goldCidPairs, scoreCidRecords } from '../../../src/eval/evalRelations.ts';

const fixtures = join(import.meta.dirname, '../../fixtures');
const data = join(fixtures, 'io/cid-tiny.pubtator');

describe('eval relations', () => {
  it('gold entities: every abstract scored, figures consistent with the counts', async () => {
    const r = await evalRelations({
      data,
      goldEntities: true,
      cid: join(fixtures, 'models/cid-relations'),
      threshold: 0,
    });
    expect(r.mode).toBe('gold-entities');
    expect(r.abstracts).toBe(6);
    expect(r.deadLetters).toBe(0);
    // Threshold 0 emits every candidate: recall is 100 (every gold pair has both concepts annotated).
    expect(r.recall).toBe(100);
    expect(r.tp + r.fn).toBe(goldCidPairs(readGoldArticles(data)).length);
    expect(r.relations).toBe(r.tp + r.fp);
  });

  it('end to end through the ner-relations topology: no abstract missing, concepts scored', async () => {
    const r = await evalRelations({ data });
    expect(r.mode).toBe('end-to-end');
    expect(r.missing).toBe(0);
    expect(r.deadLetters).toBe(0);
    expect(r.concepts).toBeDefined();
    expect(Number(r.concepts!.f1)).toBeGreaterThan(0);
    expect(r.tp).toBeGreaterThan(0);
  }, 60_000);

  it('a gold document keeps every gold mention in the sentence that holds it', () => {
    const [a] = readGoldArticles(data);
    const d = goldDocument(a!);
    expect(d.sentences.flatMap((s) => s.entities)).toHaveLength(a!.annotations.length);
    for (const s of d.sentences)
      for (const e of s.entities) expect(e.start >= s.start && e.start < s.end).toBe(true);
  });

  it('repeated record keys count once; non-CID relations are ignored', () => {
    const articles = readGoldArticles(data).slice(0, 1);
    const rec = {
      sourceId: articles[0]!.pmid,
      head: { text: 'Lidocaine', type: 'Chemical', start: 0, end: 9, conceptId: 'D008012' },
      relation: 'CID',
      tail: { text: 'seizures', type: 'Disease', start: 18, end: 26, conceptId: 'D012640' },
      probability: 0.9,
      modelId: 'm',
      evidence: [],
      createdAt: 0,
    };
    const s = scoreCidRecords(articles, [
      { key: 'k', value: rec },
      { key: 'k', value: rec },
      { key: 'u', value: { ...rec, relation: 'may_treat' } },
    ]);
    expect(s).toMatchObject({ tp: 1, fp: 0, fn: 0, duplicates: 1, relations: 1, f1: 100 });
  });
});
