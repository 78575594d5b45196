import { basename } from 'node:path';
import type { LabeledSentence } from '../avro/types.generated.ts';
import { FileFormatError } from './errors.ts';
import { readLines, type Line } from './lines.ts';
import type { ParsedRecord } from './recordSource.ts';

/** Options of the CoNLL reader. */
export interface ConllReadOptions {
  /** Sentence ids are `<idPrefix>:<n>` with n counted from 0 (default: the file's base name). */
  idPrefix?: string;
  /** Value of LabeledSentence.source (default: the path). */
  source?: string;
  /** Longest sentence in tokens; a longer one is an error, which bounds memory (default 10,000). */
  maxTokens?: number;
}

const TAG = /^(O|[BIES](-\S+)?)$/;

/**
 * Parses the lines of one CoNLL sentence: `token<TAB>tag` (2 columns) or
 * `token<TAB>tag<TAB>POS<TAB>keyword-tag` (4 columns, the keywords corpus). Columns split on tabs,
 * or on runs of spaces when a line has no tab; trailing whitespace is ignored.
 */
export function parseConllSentence(lines: Line[], path: string, id: string, source: string): LabeledSentence {
  const fail = (line: number, msg: string): never => {
    throw new FileFormatError('conll', path, line, msg);
  };
  const tokens: string[] = [];
  const tags: string[] = [];
  const keywordTags: string[] = [];
  let width = 0;
  for (const l of lines) {
    const text = l.text.replace(/\s+$/, '');
    const cols = text.includes('\t') ? text.split('\t').map((c) => c.trim()) : text.trim().split(/\s+/);
    if (cols.length !== 2 && cols.length !== 4) {
      fail(l.line, `expected 2 columns (token, tag) or 4 (token, tag, POS, keyword tag), got ${cols.length}`);
    }
    if (width === 0) width = cols.length;
    else if (cols.length !== width) fail(l.line, `${cols.length} columns where the sentence has ${width}`);
    const [token, tag] = cols as [string, string];
    if (token === '') fail(l.line, 'empty token');
    if (!TAG.test(tag)) fail(l.line, `tag "${tag}" is not O, B[-X] or I[-X]`);
    tokens.push(token);
    tags.push(tag);
    if (width === 4) {
      const kw = cols[3] as string;
      if (!TAG.test(kw)) fail(l.line, `keyword tag "${kw}" is not O, B[-X] or I[-X]`);
      keywordTags.push(kw);
    }
  }
  return { id, tokens, tags, keywordTags: width === 4 ? keywordTags : null, source };
}

/** Formats one labeled sentence as CoNLL lines plus the blank separator line. */
export function formatConllSentence(s: {
  tokens: string[];
  tags: string[];
  keywordTags?: string[] | null;
  id?: string;
}): string {
  if (s.tokens.length !== s.tags.length) {
    throw new Error(
      `conll writer: sentence ${s.id ?? ''} has ${s.tokens.length} tokens but ${s.tags.length} tags`,
    );
  }
  const kw = s.keywordTags ?? null;
  if (kw && kw.length !== s.tokens.length) {
    throw new Error(
      `conll writer: sentence ${s.id ?? ''} has ${s.tokens.length} tokens but ${kw.length} keyword tags`,
    );
  }
  let out = '';
  s.tokens.forEach((t, i) => {
    if (t === '' || /\s/.test(t))
      throw new Error(`conll writer: sentence ${s.id ?? ''} token ${i} is empty or has whitespace`);
    // POS is not part of LabeledSentence: '_' keeps the 4-column layout readable by the reader.
    out += kw ? `${t}\t${s.tags[i]}\t_\t${kw[i]}\n` : `${t}\t${s.tags[i]}\n`;
  });
  return out + '\n';
}

/** Streams sentences of a CoNLL file; tolerant of CRLF, runs of blank lines, trailing spaces and -DOCSTART-. */
export async function* readConll(
  stream: AsyncIterable<Buffer | string>,
  path: string,
  opts: ConllReadOptions = {},
): AsyncGenerator<ParsedRecord<LabeledSentence>> {
  const prefix = opts.idPrefix ?? basename(path).replace(/\.(conll|tsv|txt|iob2?|bio)$/i, '');
  const source = opts.source ?? path;
  const maxTokens = opts.maxTokens ?? 10_000;
  let sent: Line[] = [];
  let broken: { line: number; error: string } | null = null;
  let n = 0;
  const flush = (): ParsedRecord<LabeledSentence> | null => {
    if (sent.length === 0 && !broken) return null;
    const id = `${prefix}:${n++}`;
    const line = sent[0]?.line ?? broken?.line ?? 0;
    const raw = Buffer.from(sent.map((l) => l.text).join('\n'));
    const lines = sent;
    const b = broken;
    sent = [];
    broken = null;
    if (b)
      return { ok: false, error: new FileFormatError('conll', path, b.line, b.error), key: id, line, raw };
    try {
      return { ok: true, value: parseConllSentence(lines, path, id, source), key: id, line, raw };
    } catch (e) {
      return { ok: false, error: e as Error, key: id, line, raw };
    }
  };
  for await (const l of readLines(stream)) {
    if (l.error) {
      broken ??= { line: l.line, error: l.error };
      continue;
    }
    const t = l.text.trim();
    if (t === '' || t.startsWith('-DOCSTART-')) {
      const r = flush();
      if (r) yield r;
      continue;
    }
    if (sent.length >= maxTokens) {
      broken ??= { line: l.line, error: `sentence longer than ${maxTokens} tokens` };
      continue;
    }
    sent.push(l);
  }
  const r = flush();
  if (r) yield r;
}
