// Document-level CID relation scoring: RelationTriple records (relation CID, concept ids on both
// arguments, sourceId = PMID) against the gold CID lines of PubTator abstracts, as the BioCreative V
// CID measure counts them. Running the pipeline is the CLI's job (src/cli/commands/evalRelations.ts).
import type { PubmedArticle, RelationTriple } from '../io/avro/types.generated.ts';
import { scoreRelations, type DocRelation } from './conceptF1.ts';
import type { Prf } from './documentF1.ts';

/** CID scores with delivery counts. */
export interface RelationScores extends Prf {
  abstracts: number;
  /** Relation records scored (after dropping repeated keys). */
  relations: number;
  /** Records whose key was seen before (at-least-once delivery). */
  duplicates: number;
}

/** The gold CID pairs of articles (PubTator CID lines carried in PubmedArticle.relations). */
export function goldCidPairs(articles: PubmedArticle[]): DocRelation[] {
  return articles.flatMap((a) =>
    a.relations
      .filter((r) => r.type === 'CID')
      .map((r) => ({ pmid: a.pmid, chemical: r.arg1, disease: r.arg2 })),
  );
}

/** Scores CID relation records against the articles' gold pairs; other relation types are ignored. */
export function scoreCidRecords(
  articles: PubmedArticle[],
  records: Array<{ key: string | null; value: RelationTriple }>,
): RelationScores {
  const seen = new Set<string>();
  let duplicates = 0;
  const pred: DocRelation[] = [];
  for (const { key, value } of records) {
    if (value.relation !== 'CID') continue;
    const k = key ?? `${value.sourceId}:${value.head.conceptId}:${value.tail.conceptId}`;
    if (seen.has(k)) {
      duplicates++;
      continue;
    }
    seen.add(k);
    pred.push({
      pmid: value.sourceId,
      chemical: value.head.conceptId ?? '',
      disease: value.tail.conceptId ?? '',
    });
  }
  return {
    ...scoreRelations(goldCidPairs(articles), pred),
    abstracts: articles.length,
    relations: seen.size,
    duplicates,
  };
}
