// Building the CID step's view of an abstract (CidDocument) from what the pipeline has: gold PubTator
// annotations (relations on gold entities and ids) or per-sentence NER predictions whose entities carry
// concept ids (end to end).
import { splitArticle } from '../../text/sentences.ts';
import { pubtatorToArticle, type PubtatorDoc } from '../../text/pubtator.ts';
import type { CidDocument } from './cidFeatures.ts';

/** The fields of a sentence prediction the CID step reads (NerPrediction after normalization). */
export interface SentencePredictionLike {
  pmid: string;
  sentenceIndex: number;
  sentenceStart: number;
  sentenceEnd: number;
  tokens: string[];
  tokenStarts: number[];
  entities: Array<{ start: number; end: number; text: string; type: string; conceptId?: string | null }>;
}

/** The abstract text rebuilt from sentence tokens and their offsets (gaps as spaces) when the text is not at hand. */
export function textFromPredictions(preds: readonly SentencePredictionLike[]): string {
  let end = 0;
  for (const p of preds) end = Math.max(end, p.sentenceEnd);
  const chars = new Array<string>(end).fill(' ');
  for (const p of preds)
    p.tokens.forEach((t, i) => {
      const s = p.tokenStarts[i] ?? -1;
      if (s < 0) return;
      for (let k = 0; k < t.length && s + k < end; k++) chars[s + k] = t[k]!;
    });
  return chars.join('');
}

/** A CID document from an abstract's sentence predictions (sorted by sentence index here). */
export function cidDocumentFromPredictions(
  pmid: string,
  preds: readonly SentencePredictionLike[],
  text?: string,
): CidDocument {
  const sorted = [...preds].sort((a, b) => a.sentenceIndex - b.sentenceIndex);
  return {
    pmid,
    text: text ?? textFromPredictions(sorted),
    sentences: sorted.map((p) => ({ start: p.sentenceStart, end: p.sentenceEnd })),
    mentions: sorted.flatMap((p) =>
      p.entities.map((e) => ({
        start: e.start,
        end: e.end,
        text: e.text,
        type: e.type,
        conceptId: e.conceptId ?? null,
      })),
    ),
  };
}

/** A CID document from a gold PubTator abstract (gold mentions and ids; the engine's sentence splitter). */
export function cidDocumentFromPubtator(doc: PubtatorDoc): CidDocument {
  return {
    pmid: doc.pmid,
    text: `${doc.title} ${doc.abstract}`,
    sentences: splitArticle(doc).map((s) => ({ start: s.start, end: s.end })),
    mentions: pubtatorToArticle(doc).annotations.map(({ start, end, text, type, conceptId }) => ({
      start,
      end,
      text,
      type,
      conceptId,
    })),
  };
}

/** The gold CID pairs of a PubTator abstract. */
export function goldCid(doc: PubtatorDoc): Array<[string, string]> {
  return doc.relations.filter((r) => r.type === 'CID').map((r) => [r.arg1, r.arg2] as [string, string]);
}
