// The item of the document-level NER stage: one abstract with all its tagged sentences, so rules that
// need the whole abstract (abbreviations, consistency, later concept normalization) see it at once,
// while the stage's output stays one record per sentence. Rules edit entities through a
// DocumentEditor, which keeps tags, entities and document offsets consistent.
import type { OperatorFunction } from 'rxjs';
import type { Envelope } from '../../engine/envelope.ts';
import { mapStep } from '../../engine/step.ts';
import { metrics } from '../../obs/metrics.ts';
import { spansToBio } from '../../text/bio.ts';
import type { Entity } from './tokenTagger.ts';

/** One sentence of an abstract after NER: word tokens with document offsets, BIO tags, scores, entities. */
export interface DocumentSentence {
  pmid: string;
  /** Position of the sentence in the abstract (0-based); the output key is `pmid:index`. */
  index: number;
  /** Character offsets of the sentence in the document text. */
  start: number;
  end: number;
  text: string;
  tokens: string[];
  /** Document offsets of each token. */
  offsets: [number, number][];
  tags: string[];
  /** The model's probability of each chosen tag. */
  tagScores: number[];
  /** Entities with document offsets and token spans, in order. */
  entities: Entity[];
}

/**
 * One abstract in the document-level stage: its text (title + " " + abstract, the offsets' reference)
 * and its sentences in order. Operators of the stage map NerDocument to NerDocument.
 */
export interface NerDocument {
  pmid: string;
  text: string;
  sentences: DocumentSentence[];
}

/** A token span of one sentence of a document. */
export interface TokenSpan {
  sentence: number;
  tokenStart: number;
  tokenEnd: number;
}

/** Index of the sentence holding document offset `at` (binary search); -1 outside every sentence. */
export function sentenceAt(doc: NerDocument, at: number): number {
  let lo = 0;
  let hi = doc.sentences.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = doc.sentences[mid]!;
    if (at < s.start) hi = mid - 1;
    else if (at >= s.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The token span covering exactly document characters [start, end); null when not token-aligned. */
export function tokenSpanOf(doc: NerDocument, start: number, end: number): TokenSpan | null {
  const si = sentenceAt(doc, start);
  if (si < 0) return null;
  const offsets = doc.sentences[si]!.offsets;
  let a = -1;
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    if (a < 0) {
      if (o[0] === start) a = i;
      else if (o[0] > start) return null;
    }
    if (a >= 0) {
      if (o[1] === end) return { sentence: si, tokenStart: a, tokenEnd: i + 1 };
      if (o[1] > end) return null;
    }
  }
  return null;
}

/** Mean of `scores` over [a, b). */
export function meanScore(scores: readonly number[], a: number, b: number): number {
  let s = 0;
  for (let k = a; k < b; k++) s += scores[k] ?? 0;
  return b > a ? s / (b - a) : 0;
}

/**
 * Copy-on-write entity edits over a document: `set` adds or retypes an entity (removing the ones it
 * overlaps), `remove` deletes one; `finish` returns the document with tags rebuilt from the entities
 * of the edited sentences (the others are returned as they were).
 */
export class DocumentEditor {
  private readonly edited = new Map<number, Entity[]>();

  constructor(readonly doc: NerDocument) {}

  /** The current entities of sentence `si` (after edits). */
  entities(si: number): readonly Entity[] {
    return this.edited.get(si) ?? this.doc.sentences[si]!.entities;
  }

  private mutable(si: number): Entity[] {
    let e = this.edited.get(si);
    if (!e) this.edited.set(si, (e = [...this.doc.sentences[si]!.entities]));
    return e;
  }

  /** The entity exactly on `span`, if any. */
  entityOn(span: TokenSpan): Entity | undefined {
    return this.entities(span.sentence).find(
      (e) => e.tokenStart === span.tokenStart && e.tokenEnd === span.tokenEnd,
    );
  }

  /** Entities overlapping `span` (sharing at least one token). */
  overlapping(span: TokenSpan): Entity[] {
    return this.entities(span.sentence).filter(
      (e) => e.tokenStart < span.tokenEnd && span.tokenStart < e.tokenEnd,
    );
  }

  /** Makes `span` an entity of `type` with `score`, removing entities it overlaps; false when unchanged. */
  set(span: TokenSpan, type: string, score: number): boolean {
    const cur = this.entityOn(span);
    if (cur && cur.type === type && this.overlapping(span).length === 1) return false;
    const s = this.doc.sentences[span.sentence]!;
    const list = this.mutable(span.sentence).filter(
      (e) => !(e.tokenStart < span.tokenEnd && span.tokenStart < e.tokenEnd),
    );
    list.push({
      start: s.offsets[span.tokenStart]![0],
      end: s.offsets[span.tokenEnd - 1]![1],
      type,
      score,
      tokenStart: span.tokenStart,
      tokenEnd: span.tokenEnd,
    });
    list.sort((x, y) => x.tokenStart - y.tokenStart);
    this.edited.set(span.sentence, list);
    return true;
  }

  /** Removes the entity exactly on `span`; false when there is none. */
  remove(span: TokenSpan): boolean {
    if (!this.entityOn(span)) return false;
    this.edited.set(
      span.sentence,
      this.mutable(span.sentence).filter(
        (e) => !(e.tokenStart === span.tokenStart && e.tokenEnd === span.tokenEnd),
      ),
    );
    return true;
  }

  /** The document with the edits applied (tags rebuilt from entities in edited sentences). */
  finish(): NerDocument {
    if (this.edited.size === 0) return this.doc;
    return {
      ...this.doc,
      sentences: this.doc.sentences.map((s, si) => {
        const entities = this.edited.get(si);
        if (!entities) return s;
        const tags = spansToBio(
          entities.map((e) => ({ type: e.type, start: e.tokenStart, end: e.tokenEnd })),
          s.tokens.length,
        );
        // tagScores say how sure the tag of each token is; where a rule changed the tag, the model's
        // score was for another tag. A token now in an entity takes the entity's score (the evidence the
        // rule used); a token now O takes 1 - the model's score for the tag it lost.
        const tagScores = s.tagScores.slice();
        for (const e of entities)
          for (let k = e.tokenStart; k < e.tokenEnd; k++) if (tags[k] !== s.tags[k]) tagScores[k] = e.score;
        for (let k = 0; k < tags.length; k++)
          if (tags[k] === 'O' && s.tags[k] !== 'O') tagScores[k] = 1 - (s.tagScores[k] ?? 0);
        return { ...s, tags, tagScores, entities };
      }),
    };
  }
}

/** Edits made by one document-level rule on one document, by kind (counted in metrics). */
export type EditCounts = Record<string, number>;

/** Adds `n` to `counts[kind]`. */
export function count(counts: EditCounts, kind: string, n = 1): void {
  counts[kind] = (counts[kind] ?? 0) + n;
}

/**
 * A document-level rule as a stream step: applies `rule` to each document and counts its edits in
 * `bioaug_document_edits_total{step, rule}`; an exception nacks the abstract (dead letters).
 */
export function documentRuleStep(
  stepId: string,
  rule: (doc: NerDocument) => { doc: NerDocument; counts: EditCounts },
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  return mapStep<NerDocument, NerDocument>(stepId, (d) => {
    const { doc, counts } = rule(d);
    for (const [kind, n] of Object.entries(counts))
      if (n > 0) metrics.documentEdits.inc({ step: stepId, rule: kind }, n);
    return doc;
  });
}
