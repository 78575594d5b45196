// PubTator format: `PMID|t|title`, `PMID|a|abstract`, annotation lines
// `PMID<TAB>start<TAB>end<TAB>mention<TAB>type<TAB>id[<TAB>extra...]` and relation lines
// `PMID<TAB>REL<TAB>arg1<TAB>arg2`; documents are separated by blank lines. Offsets index
// into title + " " + abstract.
// The one PubTator implementation: file readers/writers (src/io/files/pubtator.ts), evaluation and
// tests all parse, format and map to PubmedArticle through this module.
import { StreamError } from '../engine/errors.ts';
import type { PubmedArticle } from '../io/avro/types.generated.ts';

/** One entity mention of a PubTator document (offsets into title + " " + abstract). */
export interface PubtatorAnnotation {
  start: number;
  end: number;
  mention: string;
  type: string;
  /** Normalized identifier(s), e.g. a MeSH id or `D002318|D012131`; '' when absent. */
  id: string;
  /** Further columns (composite mention parts in CDR), kept so formatting round-trips. */
  extra?: string[];
}

/** One document-level relation line, e.g. CID chemical-induced disease. */
export interface PubtatorRelation {
  type: string;
  arg1: string;
  arg2: string;
}

/** One PubTator document. */
export interface PubtatorDoc {
  pmid: string;
  title: string;
  abstract: string;
  annotations: PubtatorAnnotation[];
  relations: PubtatorRelation[];
}

/** Thrown on malformed PubTator input; names the 1-based line. Not retriable: the input is wrong. */
export class PubtatorParseError extends StreamError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`pubtator: line ${line}: ${message}`, {
      stage: 'input',
      step: 'pubtator',
      hint: 'PubTator is PMID|t|title, PMID|a|abstract, then PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id] lines',
    });
  }
}

/** The text PubTator offsets refer to: title + " " + abstract. */
export function pubtatorText(doc: Pick<PubtatorDoc, 'title' | 'abstract'>): string {
  return `${doc.title} ${doc.abstract}`;
}

const HEADER = /^([^|\t]+)\|([ta])\|(.*)$/;

/**
 * Incremental PubTator parser: feed lines one at a time, get documents as they complete.
 * File sources use it to stay bounded in memory; `parsePubtator` wraps it for whole strings.
 */
export class PubtatorLineParser {
  private doc: PubtatorDoc | null = null;
  private lineNo = 0;

  /** Feeds one line (without its newline); returns the document it completes, if any. */
  push(rawLine: string): PubtatorDoc | null {
    this.lineNo += 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return this.flush();
    const header = HEADER.exec(line);
    if (header) {
      const [, pmid = '', kind, text = ''] = header;
      if (kind === 't') {
        const done = this.flush();
        this.doc = { pmid, title: text, abstract: '', annotations: [], relations: [] };
        return done;
      }
      // An abstract line may follow its title, or open a document that has no title line.
      if (this.doc && this.doc.pmid !== pmid) {
        const done = this.flush();
        this.doc = { pmid, title: '', abstract: text, annotations: [], relations: [] };
        return done;
      }
      if (!this.doc) this.doc = { pmid, title: '', abstract: text, annotations: [], relations: [] };
      else this.doc.abstract = text;
      return null;
    }
    const cols = line.split('\t');
    if (!this.doc)
      throw new PubtatorParseError(
        `expected a "PMID|t|title" or "PMID|a|abstract" line before annotations, got "${clip(line)}"`,
        this.lineNo,
      );
    if (cols[0] !== this.doc.pmid)
      throw new PubtatorParseError(
        `annotation PMID "${cols[0] ?? ''}" does not match the document's PMID "${this.doc.pmid}"`,
        this.lineNo,
      );
    if (cols.length === 4) {
      const [, type = '', arg1 = '', arg2 = ''] = cols;
      this.doc.relations.push({ type, arg1, arg2 });
      return null;
    }
    if (cols.length < 5)
      throw new PubtatorParseError(
        `expected 4 columns (relation: PMID, type, arg1, arg2) or 5+ columns (annotation: PMID, start, end, mention, type[, id, ...]), got ${cols.length}`,
        this.lineNo,
      );
    const [, s = '', e = '', mention = '', type = '', id = '', ...extra] = cols;
    const start = toOffset(s, 'start', this.lineNo);
    const end = toOffset(e, 'end', this.lineNo);
    if (end < start)
      throw new PubtatorParseError(`annotation end ${end} is before start ${start}`, this.lineNo);
    const ann: PubtatorAnnotation = { start, end, mention, type, id };
    if (extra.length > 0) ann.extra = extra;
    this.doc.annotations.push(ann);
    return null;
  }

  /** Ends the input; returns the last document if one is open. */
  end(): PubtatorDoc | null {
    return this.flush();
  }

  private flush(): PubtatorDoc | null {
    const d = this.doc;
    this.doc = null;
    return d;
  }
}

function toOffset(v: string, what: string, line: number): number {
  if (!/^\d+$/.test(v))
    throw new PubtatorParseError(
      `annotation ${what} offset must be a non-negative integer, got "${v}"`,
      line,
    );
  return Number(v);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Parses a whole PubTator text into documents; throws PubtatorParseError naming the line. */
export function parsePubtator(text: string): PubtatorDoc[] {
  if (typeof text !== 'string') throw new TypeError('parsePubtator: expected a string');
  const parser = new PubtatorLineParser();
  const docs: PubtatorDoc[] = [];
  for (const line of text.split('\n')) {
    const d = parser.push(line);
    if (d) docs.push(d);
  }
  const last = parser.end();
  if (last) docs.push(last);
  return docs;
}

/** Formats one document as PubTator lines (no trailing blank line); throws on a line break in title or abstract. */
export function formatPubtatorDoc(doc: PubtatorDoc): string {
  for (const [field, v] of [
    ['title', doc.title],
    ['abstract', doc.abstract],
  ] as const) {
    // A newline would end the line and corrupt the document: PubTator has no escaping.
    if (/[\r\n]/.test(v))
      throw new Error(`pubtator writer: ${field} of PMID ${doc.pmid} contains a line break`);
  }
  const lines = [`${doc.pmid}|t|${doc.title}`, `${doc.pmid}|a|${doc.abstract}`];
  for (const a of doc.annotations) {
    const cols = [doc.pmid, String(a.start), String(a.end), a.mention, a.type];
    // An id column is written when there is an id or extra columns follow it, so a 5-column line
    // stays 5 columns and parse -> format round-trips.
    if (a.id !== '' || (a.extra && a.extra.length > 0)) cols.push(a.id, ...(a.extra ?? []));
    lines.push(cols.join('\t'));
  }
  for (const r of doc.relations) lines.push([doc.pmid, r.type, r.arg1, r.arg2].join('\t'));
  return lines.join('\n');
}

/** Formats documents as PubTator text: documents separated by a blank line, ending in a newline. */
export function formatPubtator(docs: PubtatorDoc[]): string {
  return docs.map((d) => `${formatPubtatorDoc(d)}\n\n`).join('');
}

/** The PubmedArticle record of a PubTator document; `gold: false` leaves out its mentions and relations. */
export function pubtatorToArticle(doc: PubtatorDoc, opts: { gold?: boolean } = {}): PubmedArticle {
  const gold = opts.gold ?? true;
  return {
    pmid: doc.pmid,
    title: doc.title,
    abstract: doc.abstract,
    journal: null,
    year: null,
    mesh: [],
    annotations: gold
      ? doc.annotations.map((a) => ({
          start: a.start,
          end: a.end,
          text: a.mention,
          type: a.type,
          conceptId: a.id === '' ? null : a.id,
          extra: a.extra ?? [],
        }))
      : [],
    relations: gold ? doc.relations.map((r) => ({ type: r.type, arg1: r.arg1, arg2: r.arg2 })) : [],
  };
}

/** What `pubtatorFromArticle` reads: a PubmedArticle, or any record with its text fields. */
export interface PubtatorArticleLike {
  pmid: string;
  title: string;
  abstract: string;
  annotations?: Array<{
    start: number;
    end: number;
    text: string;
    type: string;
    conceptId?: string | null;
    extra?: string[];
  }>;
  relations?: Array<{ type: string; arg1: string; arg2: string }>;
}

/** The PubTator document of an article (the inverse of `pubtatorToArticle`). */
export function pubtatorFromArticle(a: PubtatorArticleLike): PubtatorDoc {
  return {
    pmid: a.pmid,
    title: a.title,
    abstract: a.abstract,
    annotations: (a.annotations ?? []).map((m) => {
      const ann: PubtatorAnnotation = {
        start: m.start,
        end: m.end,
        mention: m.text,
        type: m.type,
        id: m.conceptId ?? '',
      };
      if (m.extra && m.extra.length > 0) ann.extra = m.extra;
      return ann;
    }),
    relations: (a.relations ?? []).map((r) => ({ type: r.type, arg1: r.arg1, arg2: r.arg2 })),
  };
}

/**
 * PubTator lines of a stream record that is not a whole article: an NER prediction (one sentence)
 * becomes its annotation lines `PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>concept id]`, a
 * document-level relation `PMID<TAB>CID<TAB>chemical id<TAB>disease id`. Sentences carry no title or
 * abstract, so no text lines are written: the output is PubTator's annotation-only form. Returns null
 * for a record of another kind.
 */
export function pubtatorLinesOf(v: unknown): string[] | null {
  const r = v as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return null;
  if (typeof r.pmid === 'string' && Array.isArray(r.entities)) {
    return (r.entities as Array<Record<string, unknown>>).map((e) => {
      const cols = [r.pmid as string, String(e.start), String(e.end), String(e.text), String(e.type)];
      if (typeof e.conceptId === 'string') cols.push(e.conceptId);
      if (cols.some((c) => /[\t\r\n]/.test(c)))
        throw new Error(`pubtator writer: a mention of PMID ${String(r.pmid)} contains a tab or line break`);
      return cols.join('\t');
    });
  }
  const head = r.head as { conceptId?: unknown } | undefined;
  const tail = r.tail as { conceptId?: unknown } | undefined;
  if (
    typeof r.sourceId === 'string' &&
    typeof r.relation === 'string' &&
    typeof head?.conceptId === 'string' &&
    typeof tail?.conceptId === 'string'
  )
    return [[r.sourceId.split(':')[0], r.relation, head.conceptId, tail.conceptId].join('\t')];
  return null;
}
