import type { PubmedArticle } from '../avro/types.generated.ts';
import {
  PubtatorParseError,
  parsePubtator,
  pubtatorText,
  pubtatorToArticle,
  type PubtatorDoc,
} from '../../text/pubtator.ts';
import { FileFormatError } from './errors.ts';
import { readLines, type Line } from './lines.ts';
import type { ParsedRecord } from './fileSource.ts';

/** Options of the PubTator reader. */
export interface PubtatorReadOptions {
  /** Check that every mention's text equals title + " " + abstract at its offsets (default true). */
  checkOffsets?: boolean;
  /** Longest document in lines; a longer one is an error, which bounds memory (default 100,000). */
  maxDocumentLines?: number;
}

const TITLE = /^([^|\t]+)\|t\|(.*)$/;

/**
 * Reads the lines of one PubTator document with the shared parser (src/text/pubtator.ts), checks
 * mention offsets and maps it to a PubmedArticle; throws FileFormatError naming the file line.
 */
function readDocument(lines: Line[], path: string, opts: PubtatorReadOptions = {}): PubmedArticle {
  const fail = (line: number | undefined, msg: string): never => {
    throw new FileFormatError('pubtator', path, line, msg);
  };
  let docs: PubtatorDoc[];
  try {
    docs = parsePubtator(lines.map((l) => l.text).join('\n'));
  } catch (e) {
    if (!(e instanceof PubtatorParseError)) throw e;
    // The shared parser counts lines from the document's start; report the file's line.
    return fail(lines[e.line - 1]?.line, e.message.replace(/^pubtator: line \d+: /, ''));
  }
  const first = lines[0]?.line;
  const doc = docs[0];
  if (!doc) return fail(first, 'empty document');
  if (docs.length > 1) {
    const other = docs[1] as PubtatorDoc;
    const at = lines.find((l) => l.text.startsWith(`${other.pmid}|`))?.line;
    fail(at, `PMID ${other.pmid} inside the document of PMID ${doc.pmid} (missing blank line?)`);
  }
  const text = pubtatorText(doc);
  if (opts.checkOffsets ?? true) {
    for (const a of doc.annotations) {
      const at = lines.find((l) => l.text.startsWith(`${doc.pmid}\t${a.start}\t${a.end}\t`))?.line;
      if (a.end > text.length)
        fail(at, `mention ${a.start}-${a.end} is past the end of the text (${text.length})`);
      const got = text.slice(a.start, a.end);
      if (got !== a.mention)
        fail(at, `mention "${a.mention}" does not match the text at ${a.start}-${a.end}: "${got}"`);
    }
  }
  return pubtatorToArticle(doc);
}

/** The raw bytes of a document's lines, LF-separated. */
function joinRaw(lines: Line[]): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    if (i > 0) parts.push(NEWLINE);
    parts.push(l.raw);
  });
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

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
    // The dead letter keeps the document's bytes as read, undecodable lines included, and its
    // origin is the document's first line even when that line is the undecodable one.
    const raw = Buffer.from(joinRaw(doc));
    const line = doc[0]?.line ?? broken?.line ?? 0;
    const key = doc[0] ? (/^[^|\t]+/.exec(doc[0].raw.toString('latin1'))?.[0] ?? null) : null;
    const b = broken;
    const lines = doc;
    doc = [];
    broken = null;
    if (b)
      return { ok: false, error: new FileFormatError('pubtator', path, b.line, b.error), key, line, raw };
    try {
      return { ok: true, value: readDocument(lines, path, opts), key, line, raw };
    } catch (e) {
      return { ok: false, error: e as Error, key, line, raw };
    }
  };
  for await (const l of readLines(stream)) {
    if (l.error) {
      // An undecodable title line still starts a document (PMID and |t| are ASCII).
      if (doc.length > 0 && TITLE.test(l.raw.toString('latin1'))) {
        const r = flush();
        if (r) yield r;
      }
      broken ??= { line: l.line, error: l.error };
      // Kept with its bytes (the document's raw record); a line over the length limit has none.
      if (doc.length < maxLines) doc.push(l);
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
