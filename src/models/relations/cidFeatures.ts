// Candidate pairs and their features for document-level chemical-induced-disease (CID) relations: one
// candidate per (chemical concept, disease concept) of an abstract, evidence pooled over every pair of
// their mentions, within a sentence and across sentences. The training recipe (training/cid.ts) and the
// engine's relation step compute features with this one module, so they cannot drift apart.

/** A normalized mention of an abstract. */
export interface CidMention {
  start: number;
  end: number;
  text: string;
  type: string;
  /** Concept id (composite ids joined by "|"; "-1" or null for none). */
  conceptId: string | null;
}

/** What the CID step needs of an abstract: its text, sentence spans and normalized mentions. */
export interface CidDocument {
  pmid: string;
  /** title + " " + abstract (mention and sentence offsets index into it). */
  text: string;
  /** Sentence spans in text order; sentence 0 is the title. */
  sentences: Array<{ start: number; end: number }>;
  mentions: CidMention[];
}

/** A mention pair that supports a candidate: sentence indices and offsets of both mentions. */
export interface CidEvidence {
  chemicalSentence: number;
  chemicalStart: number;
  chemicalEnd: number;
  diseaseSentence: number;
  diseaseStart: number;
  diseaseEnd: number;
}

/** One (chemical, disease) candidate of an abstract with its feature vector. */
export interface CidCandidate {
  pmid: string;
  chemical: string;
  disease: string;
  features: number[];
  /** The closest mention pairs (same sentence first), at most `maxEvidence`. */
  evidence: CidEvidence[];
  /** Texts of the closest mention pair (evidence[0]), for display. */
  chemicalText: string;
  diseaseText: string;
}

/** Pair statistics of the training abstracts (the bundle's prior.json): a knowledge feature. */
export interface CidPrior {
  /** "chemical\tdisease" -> [abstracts where it is a gold CID, abstracts where both occur]. */
  pairs: Record<string, [number, number]>;
  /** chemical -> [CID pairs it is in, candidate pairs it is in]; same for diseases. */
  chemicals: Record<string, [number, number]>;
  diseases: Record<string, [number, number]>;
}

/** An empty prior (no knowledge). */
export const EMPTY_PRIOR: CidPrior = { pairs: {}, chemicals: {}, diseases: {} };

const TRIGGERS: Array<[string, RegExp]> = [
  ['induced', /^(?:induc|elicit|provok|evok)/],
  ['caused', /^caus/],
  ['associated', /^(?:associat|relat|link)/],
  ['after', /^(?:after|following|during|post)$/],
  ['due', /^(?:due|secondary|attribut)/],
  ['develop', /^(?:develop|occur|appear|onset|result|produc|experienc|suffer)/],
  ['toxic', /^(?:toxic|adverse|side|complicat)/],
  ['treat', /^(?:treat|therap|receiv|administ|given|taking|use)/],
  ['protect', /^(?:prevent|protect|attenuat|revers|inhibit|antagon|ameliorat|alleviat|improv|reduc|block)/],
  ['risk', /^(?:risk|incidence|increas|enhanc|potentiat|exacerbat|worsen|aggravat)/],
];
const NEGATION = /^(?:no|not|without|neither|nor|none|absence|absent|lack|failed)$/;

/** Names of the features, in vector order (written into model.json). */
export const CID_FEATURES: readonly string[] = [
  'chem_mentions_log',
  'dis_mentions_log',
  'chem_in_title',
  'dis_in_title',
  'both_in_title',
  'chem_first_pos',
  'dis_first_pos',
  'chem_most_frequent',
  'dis_most_frequent',
  'chem_share',
  'dis_share',
  'n_chem_concepts_log',
  'n_dis_concepts_log',
  'min_sentence_distance',
  'same_sentence',
  'adjacent_sentence',
  'same_sentence_count_log',
  'min_words_between',
  'chem_before_dis',
  'pattern_chem_induced_dis',
  'pattern_dis_after_chem',
  ...TRIGGERS.map(([n]) => `between_${n}`),
  ...TRIGGERS.map(([n]) => `sentence_${n}`),
  'between_negation',
  'sentence_negation',
  'between_other_chemical',
  'between_other_disease',
  'prior_pair_cid_log',
  'prior_pair_cooccur_log',
  'prior_pair_rate',
  'prior_chem_rate',
  'prior_dis_rate',
  'prior_chem_seen',
  'prior_dis_seen',
];

const words = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

function sentenceOf(sentences: CidDocument['sentences'], start: number): number {
  // Binary search: the last sentence starting at or before `start`.
  let lo = 0;
  let hi = sentences.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sentences[mid]!.start <= start) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

interface Placed extends CidMention {
  sentence: number;
}

function parts(id: string | null): string[] {
  if (!id) return [];
  return id.split('|').filter((x) => x !== '' && x !== '-1');
}

/** Options of {@link cidCandidates}. */
export interface CandidateOptions {
  /** Candidate pairs per abstract beyond this are not classified (bounded work; the rest are reported). */
  maxPairs?: number;
  /** Evidence mention pairs kept per candidate. */
  maxEvidence?: number;
  /** Training only: leave these pairs out of the prior lookups (cross-fitting). */
  prior?: CidPrior;
}

/** The candidates of an abstract with features; `dropped` counts the pairs over `maxPairs`. */
export function cidCandidates(
  doc: CidDocument,
  opts: CandidateOptions = {},
): { candidates: CidCandidate[]; dropped: number } {
  const prior = opts.prior ?? EMPTY_PRIOR;
  const maxPairs = opts.maxPairs ?? 2000;
  const maxEvidence = opts.maxEvidence ?? 3;
  const nSent = Math.max(1, doc.sentences.length);
  const placed: Placed[] = doc.mentions
    .filter((m) => Number.isInteger(m.start) && Number.isInteger(m.end) && m.end > m.start)
    .map((m) => ({ ...m, sentence: sentenceOf(doc.sentences, m.start) }))
    .sort((a, b) => a.start - b.start);
  const byConcept = (type: string): Map<string, Placed[]> => {
    const m = new Map<string, Placed[]>();
    for (const x of placed)
      if (x.type === type)
        for (const id of parts(x.conceptId)) {
          const l = m.get(id) ?? [];
          l.push(x);
          m.set(id, l);
        }
    return m;
  };
  const chems = byConcept('Chemical');
  const diss = byConcept('Disease');
  const nChemMentions = [...chems.values()].reduce((a, l) => a + l.length, 0) || 1;
  const nDisMentions = [...diss.values()].reduce((a, l) => a + l.length, 0) || 1;
  const maxChem = Math.max(0, ...[...chems.values()].map((l) => l.length));
  const maxDis = Math.max(0, ...[...diss.values()].map((l) => l.length));
  const chemStarts = placed.filter((p) => p.type === 'Chemical').map((p) => p.start);
  const disStarts = placed.filter((p) => p.type === 'Disease').map((p) => p.start);
  const sentWords = new Map<number, string[]>();
  const sentenceWords = (i: number): string[] => {
    let w = sentWords.get(i);
    if (!w) {
      const s = doc.sentences[i];
      sentWords.set(i, (w = s ? words(doc.text.slice(s.start, s.end)) : []));
    }
    return w;
  };
  const out: CidCandidate[] = [];
  let dropped = 0;
  for (const [c, cm] of chems) {
    for (const [d, dm] of diss) {
      if (out.length >= maxPairs) {
        dropped++;
        continue;
      }
      const f: number[] = [];
      const inTitle = (l: Placed[]): number => (l.some((x) => x.sentence === 0) ? 1 : 0);
      f.push(Math.log1p(cm.length), Math.log1p(dm.length));
      f.push(inTitle(cm), inTitle(dm), inTitle(cm) * inTitle(dm));
      f.push(cm[0]!.sentence / nSent, dm[0]!.sentence / nSent);
      f.push(cm.length === maxChem ? 1 : 0, dm.length === maxDis ? 1 : 0);
      f.push(cm.length / nChemMentions, dm.length / nDisMentions);
      f.push(Math.log1p(chems.size), Math.log1p(diss.size));
      // Mention pairs: sentence distance, and for same-sentence pairs the words between them.
      let minDist = Infinity;
      const sameSent = new Set<number>();
      let minBetween = Infinity;
      let chemFirst = 0;
      let patInduced = 0;
      let patAfter = 0;
      const between = new Array<number>(TRIGGERS.length).fill(0);
      const sentence = new Array<number>(TRIGGERS.length).fill(0);
      let negBetween = 0;
      let negSentence = 0;
      let otherChem = 0;
      let otherDis = 0;
      const ev: Array<{ e: CidEvidence; key: number; a: Placed; b: Placed }> = [];
      for (const a of cm)
        for (const b of dm) {
          const dist = Math.abs(a.sentence - b.sentence);
          minDist = Math.min(minDist, dist);
          const lo = Math.min(a.end, b.end);
          const hi = Math.max(a.start, b.start);
          const gapChars = Math.max(0, hi - lo);
          ev.push({
            e: {
              chemicalSentence: a.sentence,
              chemicalStart: a.start,
              chemicalEnd: a.end,
              diseaseSentence: b.sentence,
              diseaseStart: b.start,
              diseaseEnd: b.end,
            },
            key: dist * 1e6 + gapChars,
            a,
            b,
          });
          if (dist !== 0) continue;
          sameSent.add(a.sentence);
          const bw = hi > lo ? words(doc.text.slice(lo, hi)) : [];
          if (bw.length < minBetween) {
            minBetween = bw.length;
            chemFirst = a.start < b.start ? 1 : 0;
          }
          TRIGGERS.forEach(([, re], k) => {
            if (bw.some((w) => re.test(w))) between[k] = 1;
          });
          if (bw.some((w) => NEGATION.test(w))) negBetween = 1;
          if (chemStarts.some((s) => s >= lo && s < hi)) otherChem = 1;
          if (disStarts.some((s) => s >= lo && s < hi)) otherDis = 1;
          // "cocaine-induced seizures", "seizures induced by cocaine"
          if (
            a.start < b.start &&
            bw.length <= 3 &&
            bw[0] !== undefined &&
            /^(?:induc|associat|relat)/.test(bw[0])
          )
            patInduced = 1;
          if (
            b.start < a.start &&
            bw.length <= 4 &&
            bw.some((w) => /^(?:induc|caus|after|following|due)/.test(w))
          )
            patAfter = 1;
          const sw = sentenceWords(a.sentence);
          TRIGGERS.forEach(([, re], k) => {
            if (sw.some((w) => re.test(w))) sentence[k] = 1;
          });
          if (sw.some((w) => NEGATION.test(w))) negSentence = 1;
        }
      f.push(
        Math.min(minDist, 10) / 10,
        minDist === 0 ? 1 : 0,
        minDist === 1 ? 1 : 0,
        Math.log1p(sameSent.size),
      );
      f.push(minBetween === Infinity ? 1 : Math.min(minBetween, 30) / 30, chemFirst, patInduced, patAfter);
      f.push(...between, ...sentence, negBetween, negSentence, otherChem, otherDis);
      const pp = prior.pairs[`${c}\t${d}`] ?? [0, 0];
      const pc = prior.chemicals[c] ?? [0, 0];
      const pd = prior.diseases[d] ?? [0, 0];
      f.push(Math.log1p(pp[0]), Math.log1p(pp[1]), pp[1] > 0 ? pp[0] / pp[1] : 0);
      f.push(
        pc[1] > 0 ? pc[0] / pc[1] : 0,
        pd[1] > 0 ? pd[0] / pd[1] : 0,
        pc[1] > 0 ? 1 : 0,
        pd[1] > 0 ? 1 : 0,
      );
      ev.sort((x, y) => x.key - y.key);
      out.push({
        pmid: doc.pmid,
        chemical: c,
        disease: d,
        features: f,
        evidence: ev.slice(0, maxEvidence).map((x) => x.e),
        // The texts of the closest mention pair: the record's arguments point at that pair.
        chemicalText: ev[0]!.a.text,
        diseaseText: ev[0]!.b.text,
      });
    }
  }
  return { candidates: out, dropped };
}

/** Builds the prior from gold abstracts: CID pairs and co-occurring concept pairs per abstract. */
export function buildCidPrior(docs: Array<{ doc: CidDocument; cid: Array<[string, string]> }>): CidPrior {
  const prior: CidPrior = { pairs: {}, chemicals: {}, diseases: {} };
  for (const { doc, cid } of docs) {
    const gold = new Set(cid.map(([c, d]) => `${c}\t${d}`));
    const chems = new Set(
      doc.mentions.filter((m) => m.type === 'Chemical').flatMap((m) => parts(m.conceptId)),
    );
    const diss = new Set(doc.mentions.filter((m) => m.type === 'Disease').flatMap((m) => parts(m.conceptId)));
    for (const c of chems)
      for (const d of diss) {
        const k = `${c}\t${d}`;
        const pos = gold.has(k) ? 1 : 0;
        const p = (prior.pairs[k] ??= [0, 0]);
        p[0] += pos;
        p[1] += 1;
        const pc = (prior.chemicals[c] ??= [0, 0]);
        pc[0] += pos;
        pc[1] += 1;
        const pd = (prior.diseases[d] ??= [0, 0]);
        pd[0] += pos;
        pd[1] += 1;
      }
  }
  return prior;
}
