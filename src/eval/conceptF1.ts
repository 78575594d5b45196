// Concept-level scoring as in BioCreative V CDR (DNER) and CID: per abstract, the set of concept ids
// found (per entity type) or the set of (chemical, disease) pairs, compared with the gold sets; counts
// summed over abstracts (micro-averaged). Composite ids ("D001|D002") count as their parts; "-1" and
// empty ids are no concept.
import { prf, type Prf } from './documentF1.ts';

/** One concept found in (or annotated for) an abstract. */
export interface DocConcept {
  pmid: string;
  type: string;
  /** A concept id, composite ids joined by "|"; "-1" or "" for none. */
  id: string;
}

/** One document-level relation: (pmid, chemical id, disease id). */
export interface DocRelation {
  pmid: string;
  chemical: string;
  disease: string;
}

/** The individual ids of a (possibly composite) concept id, without "-1" and empty parts. */
export function conceptParts(id: string | null | undefined): string[] {
  if (!id) return [];
  return id
    .split('|')
    .map((x) => x.trim())
    .filter((x) => x !== '' && x !== '-1');
}

/** Overall and per-type concept scores. */
export interface ConceptScores extends Prf {
  per_type: Record<string, Prf>;
}

function countSets(gold: Set<string>, pred: Set<string>): [number, number, number] {
  let tp = 0;
  for (const k of pred) if (gold.has(k)) tp++;
  return [tp, pred.size - tp, gold.size - tp];
}

/**
 * Scores concept sets per abstract: a predicted (pmid, type, id) is a true positive when the gold has it.
 * `types` restricts scoring; by default every type in the gold is scored.
 */
export function scoreConcepts(gold: DocConcept[], pred: DocConcept[], types?: string[]): ConceptScores {
  const ts = types ?? [...new Set(gold.map((g) => g.type))].sort();
  const sets = (xs: DocConcept[], t: string): Set<string> =>
    new Set(
      xs.filter((x) => x.type === t).flatMap((x) => conceptParts(x.id).map((id) => `${x.pmid}\t${id}`)),
    );
  const per_type: Record<string, Prf> = {};
  let TP = 0;
  let FP = 0;
  let FN = 0;
  for (const t of ts) {
    const [tp, fp, fn] = countSets(sets(gold, t), sets(pred, t));
    per_type[t] = prf(tp, fp, fn);
    TP += tp;
    FP += fp;
    FN += fn;
  }
  return { ...prf(TP, FP, FN), per_type };
}

/** Scores (pmid, chemical, disease) relation sets; composite ids expand to every pair of parts. */
export function scoreRelations(gold: DocRelation[], pred: DocRelation[]): Prf {
  const set = (xs: DocRelation[]): Set<string> =>
    new Set(
      xs.flatMap((r) =>
        conceptParts(r.chemical).flatMap((c) => conceptParts(r.disease).map((d) => `${r.pmid}\t${c}\t${d}`)),
      ),
    );
  const [tp, fp, fn] = countSets(set(gold), set(pred));
  return prf(tp, fp, fn);
}
