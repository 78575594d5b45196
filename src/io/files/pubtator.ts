import type { GoldAnnotation, GoldRelation, PubmedArticle } from '../avro/types.generated.ts';
import { FileFormatError } from './errors.ts';
import { readLines, type Line } from './lines.ts';
import type { ParsedRecord } from './recordSource.ts';

/** Options of the PubTator reader. */
export interface PubtatorReadOptions {
  /** Check that every mention's text equals title + " " + abstract at its offsets (default true). */
  checkOffsets?: boolean;
  /** Longest document in lines; a longer one is an error, which bounds memory (default 100,000). */
  maxDocumentLines?: number;
}

const TITLE = /^([^|\t]+)\|t\|(.*)$/;
const ABSTRACT = /^([^|\t]+)\|a\|(.*)$/;

/** Parses the lines of one PubTator document; throws FileFormatError naming the line at fault. */
export function parsePubtatorDocument(
  lines: Line[],
  path: string,
  opts: PubtatorReadOptions = {},
): PubmedArticle {
  const fail = (line: number | undefined, msg: string): never => {
    throw new FileFormatError('pubtator', path, line, msg);
  };
  let pmid: string | null = null;
  let title: string | null = null;
  let abstract: string | null = null;
  const annotations: Array<GoldAnnotation & { line: number }> = [];
  const relations: GoldRelation[] = [];
  const samePmid = (id: string, l: Line): void => {
    if (pmid === null) pmid = id;
    else if (id !== pmid)
      fail(l.line, `PMID ${id} inside the document of PMID ${pmid} (missing blank line?)`);
  };
  for (const l of lines) {
    const text = l.text;
    let m: RegExpExecArray | null;
    if ((m = TITLE.exec(text))) {
      samePmid(m[1] as string, l);
      if (title !== null) fail(l.line, 'second title line in one document');
      title = m[2] as string;
    } else if ((m = ABSTRACT.exec(text))) {
      samePmid(m[1] as string, l);
      if (abstract !== null) fail(l.line, 'second abstract line in one document');
      abstract = m[2] as string;
    } else {
      const cols = text.replace(/\s+$/, '').split('\t');
      samePmid(cols[0] as string, l);
      if (cols.length >= 5 && /^\d+$/.test(cols[1] ?? '') && /^\d+$/.test(cols[2] ?? '')) {
        const start = Number(cols[1]);
        const end = Number(cols[2]);
        if (end < start) fail(l.line, `mention end ${end} is before its start ${start}`);
        annotations.push({
          start,
          end,
          text: cols[3] as string,
          type: cols[4] as string,
          conceptId: cols[5] !== undefined && cols[5] !== '' ? cols[5] : null,
          line: l.line,
        });
      } else if (cols.length === 4) {
        relations.push({ type: cols[1] as string, arg1: cols[2] as string, arg2: cols[3] as string });
      } else {
        fail(
          l.line,
          `cannot parse "${text.slice(0, 80)}": expected PMID|t|title, PMID|a|abstract, ` +
            'PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id] or PMID<TAB>relation<TAB>arg1<TAB>arg2',
        );
      }
    }
  }
  const first = lines[0]?.line;
  if (pmid === null) return fail(first, 'empty document');
  if (title === null) fail(first, `document ${pmid} has no title line (PMID|t|...)`);
  const doc = `${title ?? ''} ${abstract ?? ''}`;
  if (opts.checkOffsets ?? true) {
    for (const a of annotations) {
      if (a.end > doc.length)
        fail(a.line, `mention ${a.start}-${a.end} is past the end of the text (${doc.length})`);
      const got = doc.slice(a.start, a.end);
      if (got !== a.text)
        fail(a.line, `mention "${a.text}" does not match the text at ${a.start}-${a.end}: "${got}"`);
    }
  }
  return {
    pmid,
    title: title ?? '',
    abstract: abstract ?? '',
    journal: null,
    year: null,
    mesh: [],
    annotations: annotations.map(({ line: _line, ...a }) => a),
    relations,
  };
}

/** Formats one article as a PubTator document (title, abstract, mentions, relations; no trailing blank line). */
export function formatPubtatorDocument(a: {
  pmid: string;
  title: string;
  abstract: string;
  annotations?: Array<{ start: number; end: number; text: string; type: string; conceptId?: string | null }>;
  relations?: Array<{ type: string; arg1: string; arg2: string }>;
}): string {
  for (const [field, v] of [
    ['title', a.title],
    ['abstract', a.abstract],
  ] as const) {
    // A newline would end the line and corrupt the document: PubTator has no escaping.
    if (/[\r\n]/.test(v))
      throw new Error(`pubtator writer: ${field} of PMID ${a.pmid} contains a line break`);
  }
  const out = [`${a.pmid}|t|${a.title}`, `${a.pmid}|a|${a.abstract}`];
  for (const m of a.annotations ?? []) {
    const cols = [a.pmid, String(m.start), String(m.end), m.text, m.type];
    if (m.conceptId) cols.push(m.conceptId);
    out.push(cols.join('\t'));
  }
  for (const r of a.relations ?? []) out.push([a.pmid, r.type, r.arg1, r.arg2].join('\t'));
  return out.join('\n') + '\n';
}

/** Streams PubTator documents from a byte stream (blank lines separate documents). */
export async function* readPubtator(
  stream: AsyncIterable<Buffer | string>,
  path: string,
  opts: PubtatorReadOptions = {},
): AsyncGenerator<ParsedRecord<PubmedArticle>> {
  const maxLines = opts.maxDocumentLines ?? 100_000;
  let doc: Line[] = [];
  let broken: { line: number; error: string } | null = null;
  const flush = (): ParsedRecord<PubmedArticle> | null => {
    if (doc.length === 0 && !broken) return null;
    const raw = Buffer.from(doc.map((l) => l.text).join('\n'));
    const line = doc[0]?.line ?? broken?.line ?? 0;
    const key = doc[0] ? (/^[^|\t]+/.exec(doc[0].text)?.[0] ?? null) : null;
    const b = broken;
    const lines = doc;
    doc = [];
    broken = null;
    if (b)
      return { ok: false, error: new FileFormatError('pubtator', path, b.line, b.error), key, line, raw };
    try {
      return { ok: true, value: parsePubtatorDocument(lines, path, opts), key, line, raw };
    } catch (e) {
      return { ok: false, error: e as Error, key, line, raw };
    }
  };
  for await (const l of readLines(stream)) {
    if (l.error) {
      broken ??= { line: l.line, error: l.error };
      continue;
    }
    // Title and abstract are kept byte for byte: trimming them would shift every offset after them.
    const text = l.text;
    if (text.trim() === '') {
      const r = flush();
      if (r) yield r;
      continue;
    }
    // Some PubTator exports omit the blank line between documents: a new title line starts one.
    if (doc.length > 0 && TITLE.test(text)) {
      const r = flush();
      if (r) yield r;
    }
    if (doc.length >= maxLines) {
      broken ??= { line: l.line, error: `document longer than ${maxLines} lines` };
      continue;
    }
    doc.push({ ...l, text });
  }
  const r = flush();
  if (r) yield r;
}
