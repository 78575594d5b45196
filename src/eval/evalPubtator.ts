// Document-level evaluation of PubTator abstracts: gold articles read from the file, predicted
// mentions (NerPrediction records) scored against the gold offsets and types. Running the
// ner-tagging topology over files or Kafka is the CLI's job (src/cli/commands/evalPubtator.ts).
import { readFileSync } from 'node:fs';
import type { NerPrediction, PubmedArticle } from '../io/avro/types.generated.ts';
import { parsePubtator, pubtatorToArticle } from '../text/pubtator.ts';
import { scoreConcepts, type DocConcept } from './conceptF1.ts';
import { scoreMentions, type DocMention, type DocumentScores, type Prf } from './documentF1.ts';

/** Scores of the predictions of a document-level evaluation, with delivery counts. */
export interface PubtatorScores extends DocumentScores {
  abstracts: number;
  predictions: number;
  /** Abstracts without any prediction record (must be 0). */
  missing: number;
  /** Prediction records whose key was seen before (at-least-once delivery). */
  duplicates: number;
  /**
   * BioCreative V concept measure (DNER): per abstract, the set of (type, MeSH id) of the predicted
   * entities' concept ids against the gold ids; overall and per type (`concepts.Chemical.f1`).
   * Absent when the gold has no concept ids.
   */
  concepts?: Prf & Record<string, Prf | number>;
}

/** The gold articles of a PubTator file (the first `limit` when given). */
export function readGoldArticles(path: string, limit?: number): PubmedArticle[] {
  const docs = parsePubtator(readFileSync(path, 'utf8'));
  return (limit ? docs.slice(0, limit) : docs).map((d) => pubtatorToArticle(d));
}

/**
 * Scores prediction records against the articles' gold mentions; a record whose key was seen
 * before counts as a duplicate and is scored once. `types` defaults to the gold types predicted.
 */
export function scorePredictions(
  articles: PubmedArticle[],
  preds: Array<{ key: string | null; value: NerPrediction }>,
  types?: string[],
): PubtatorScores {
  const seen = new Set<string>();
  let duplicates = 0;
  const mentions: DocMention[] = [];
  const predConcepts: DocConcept[] = [];
  const predicted = new Set<string>();
  for (const { key, value } of preds) {
    const k = key ?? value.id;
    if (seen.has(k)) {
      duplicates++;
      continue;
    }
    seen.add(k);
    predicted.add(value.pmid);
    for (const e of value.entities) {
      mentions.push({ pmid: value.pmid, start: e.start, end: e.end, type: e.type });
      if (e.conceptId) predConcepts.push({ pmid: value.pmid, type: e.type, id: e.conceptId });
    }
  }
  const gold: DocMention[] = articles.flatMap((a) =>
    a.annotations.map((g) => ({ pmid: a.pmid, start: g.start, end: g.end, type: g.type })),
  );
  const predTypes = new Set(mentions.map((m) => m.type));
  const scored = types ?? [...new Set(gold.map((g) => g.type))].filter((t) => predTypes.has(t));
  const s = scoreMentions(gold, mentions, scored.length > 0 ? scored : undefined);
  const goldConcepts: DocConcept[] = articles.flatMap((a) =>
    a.annotations.flatMap((g) => (g.conceptId ? [{ pmid: a.pmid, type: g.type, id: g.conceptId }] : [])),
  );
  const conceptTypes = scored.filter((t) => goldConcepts.some((g) => g.type === t));
  const c = conceptTypes.length > 0 ? scoreConcepts(goldConcepts, predConcepts, conceptTypes) : null;
  return {
    ...s,
    ...(c
      ? {
          concepts: {
            precision: c.precision,
            recall: c.recall,
            f1: c.f1,
            tp: c.tp,
            fp: c.fp,
            fn: c.fn,
            ...c.per_type,
          },
        }
      : {}),
    abstracts: articles.length,
    predictions: seen.size,
    missing: articles.filter((a) => !predicted.has(a.pmid)).length,
    duplicates,
  };
}
