// Keyword selection (BioAug step 1): domain phrases from a keyword source (the keyword BIO column
// of the corpus, or an injected tagger) minus every phrase that overlaps a gold entity.
import { bioToSpans } from '../../text/bio.ts';

/** A phrase as a token range [start, end). */
export interface Phrase {
  start: number;
  end: number;
}

/** A keyword tagger: phrases of a tokenized sentence (e.g. a keyword model from models/keywords). */
export type KeywordTagger = (tokens: readonly string[]) => Phrase[];

/**
 * Phrases of a keyword BIO column. Accepts bare `B`/`I`/`O` (the keywords/ files) or typed
 * `B-X`/`I-X`; an `I` that continues nothing opens a phrase, as BIO repair reads it.
 */
export function keywordColumnPhrases(column: readonly string[]): Phrase[] {
  const tags = column.map((t, i) => {
    if (t === 'O') return 'O';
    if (t === 'B' || t === 'I') return `${t}-K`;
    if (/^[BI]-\S+$/.test(t)) return `${t[0]}-K`;
    throw new Error(`keywords: tag ${i} ${JSON.stringify(t)} is not B, I, O, B-<type> or I-<type>`);
  });
  return bioToSpans(tags).map(({ start, end }) => ({ start, end }));
}

/** Keywords that do not overlap any gold entity (gold tags `tags`), sorted by start. */
export function selectKeywords(tags: readonly string[], candidates: readonly Phrase[]): Phrase[] {
  const inEntity = tags.map((t) => t !== 'O');
  const out = candidates.filter((p) => {
    if (!(p.start >= 0 && p.end <= tags.length && p.start < p.end)) return false;
    for (let i = p.start; i < p.end; i++) if (inEntity[i]) return false;
    return true;
  });
  out.sort((a, b) => a.start - b.start || a.end - b.end);
  // Overlapping keyword phrases (a tagger may emit them) keep the first, so phrases tile the sentence.
  const tiled: Phrase[] = [];
  for (const p of out) if (tiled.length === 0 || p.start >= tiled[tiled.length - 1]!.end) tiled.push(p);
  return tiled;
}
