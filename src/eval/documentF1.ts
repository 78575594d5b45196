// Document-level NER scoring: predicted mentions against gold annotations by exact character offsets
// and type (the BC5CDR/PubTator convention: offsets into title + " " + abstract).

/** A mention in a document. */
export interface DocMention {
  pmid: string;
  start: number;
  end: number;
  type: string;
}

/** Precision, recall, F1 (0-100) and counts. */
export interface Prf {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  fp: number;
  fn: number;
}

/** Overall and per-type scores. */
export interface DocumentScores extends Prf {
  per_type: Record<string, Prf>;
}

/** Precision, recall and F1 (0-100; 0 where a denominator is 0) from true/false positives and false negatives. */
export function prf(tp: number, fp: number, fn: number): Prf {
  const precision = tp + fp === 0 ? 0 : (100 * tp) / (tp + fp);
  const recall = tp + fn === 0 ? 0 : (100 * tp) / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, tp, fp, fn };
}

const keyOf = (m: DocMention): string => `${m.pmid}\t${m.start}\t${m.end}\t${m.type}`;

/**
 * Scores mention sets: a prediction is a true positive when a gold mention has the same PMID, start,
 * end and type. Duplicates on either side count once (gold files list a mention once per concept).
 * `types` restricts scoring (e.g. the model's types); by default every type seen is scored.
 */
export function scoreMentions(
  gold: Iterable<DocMention>,
  pred: Iterable<DocMention>,
  types?: string[],
): DocumentScores {
  const keep = (m: DocMention): boolean => !types || types.includes(m.type);
  const g = new Map<string, DocMention>();
  for (const m of gold) if (keep(m)) g.set(keyOf(m), m);
  const p = new Map<string, DocMention>();
  for (const m of pred) if (keep(m)) p.set(keyOf(m), m);
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const c = (t: string) => {
    let x = counts.get(t);
    if (!x) counts.set(t, (x = { tp: 0, fp: 0, fn: 0 }));
    return x;
  };
  for (const [k, m] of p) {
    if (g.has(k)) c(m.type).tp++;
    else c(m.type).fp++;
  }
  for (const [k, m] of g) if (!p.has(k)) c(m.type).fn++;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const per_type: Record<string, Prf> = {};
  for (const [t, x] of [...counts].sort((a, b) => a[0].localeCompare(b[0]))) {
    tp += x.tp;
    fp += x.fp;
    fn += x.fn;
    per_type[t] = prf(x.tp, x.fp, x.fn);
  }
  return { ...prf(tp, fp, fn), per_type };
}
