// eval relations over the stream operators, on the synthetic CDR-style fixture: gold entities with the
// tiny CID model made by the recipe, and end to end with the shipped bundles (NER, normalization, CID).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleWithProvenance } from '../../helpers/setup.ts';
import { evalRelations, goldDocument, notHeldOut } from '../../../src/cli/commands/evalRelations.ts';
import { readGoldArticles, scorePredictions } from '../../../src/eval/evalPubtator.ts';
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
    // The fixture is no file the shipped dictionary was built from: held out.
    expect(r.notHeldOut).toBeUndefined();
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

  it("eval pubtator scores concepts: the (type, MeSH id) set per abstract from the entities' concept ids", () => {
    const [a] = readGoldArticles(data);
    const ent = (start: number, end: number, type: string, conceptId: string | null) => ({
      start,
      end,
      text: '',
      type,
      score: 1,
      conceptId,
      conceptScore: 1,
    });
    const pred = {
      id: `${a!.pmid}:0`,
      pmid: a!.pmid,
      sentenceIndex: 0,
      sentenceStart: 0,
      sentenceEnd: 10,
      tokens: [],
      tokenStarts: [],
      tokenEnds: [],
      tags: [],
      // Lidocaine right twice (counts once), seizures wrong, headache unnormalized.
      entities: [
        ent(0, 9, 'Chemical', 'D008012'),
        ent(0, 9, 'Chemical', 'D008012'),
        ent(18, 26, 'Disease', 'D000001'),
        ent(30, 38, 'Disease', '-1'),
      ],
      tokenScores: [],
      modelId: 'm',
      createdAt: 0,
    };
    const s = scorePredictions([a!], [{ key: pred.id, value: pred }]);
    // Gold: Chemical {D008012, D001241}, Disease {D012640, D006261}.
    expect(s.concepts?.Chemical).toMatchObject({ tp: 1, fp: 0, fn: 1 });
    expect(s.concepts?.Disease).toMatchObject({ tp: 0, fp: 1, fn: 2 });
  });
});

const bundle = bundleWithProvenance;
const prov = {
  train: '../shared/data/pubtator/cdr_train.pubtator',
  dev: '../shared/data/pubtator/cdr_dev.pubtator',
};

describe('notHeldOut (eval relations)', () => {
  it('joins the notes of every bundle that saw the data and says how to get held-out figures', () => {
    const dict = bundle({ ...prov, dictionary: 'train+dev' });
    const cid = bundle({ ...prov });
    expect(notHeldOut([dict, cid], 'cdr_dev.pubtator')).toMatch(
      /^the bundle .* not held out\. For held-out figures .*--normalizer \/ --cid$/,
    );
    expect(notHeldOut([dict, cid], 'cdr_train.pubtator')!.match(/the bundle /g)).toHaveLength(2);
    expect(notHeldOut([cid], 'cdr_dev.pubtator')).toBeNull();
  });
});
