// CoNLL reading and writing: `token<TAB>tag[<TAB>extra...]`, one token per line, blank line between
// sentences. Pure functions over strings so file, Kafka and test inputs share one parser.
import { StreamError } from '../engine/errors.ts';

/** One labeled sentence read from a CoNLL file. */
export interface ConllSentence {
  /** Stable id: `<source>:<index>` (index counts sentences from 0). */
  id: string;
  tokens: string[];
  /** The tag column (column 2): BIO tags such as `O`, `B-Disease`, `I-Disease`. */
  tags: string[];
  /** Columns after the tag, one array per column, each as long as `tokens` (e.g. POS, keyword BIO). */
  extra: string[][];
  /** 1-based line number of each token in the source text. */
  lines: number[];
}

/** Options of {@link parseConll}. */
export interface ParseConllOptions {
  /** Name of the file or stream, used in ids and error messages. */
  source: string;
  /** Exact number of columns every token line must have; default: the first token line's count. */
  columns?: number;
  /** Check that every tag is `O` or `B-X`/`I-X`/`E-X`/`S-X` (default true). */
  validateTags?: boolean;
  /** Longest sentence accepted, in tokens (default 5,000): longer ones are almost always a missing blank line. */
  maxTokens?: number;
}

/** A CoNLL input problem, naming the source and 1-based line. Not retriable: the input is wrong. */
export class ConllParseError extends StreamError {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`conll: ${source}:${line}: ${detail}`, {
      stage: 'input',
      step: 'conll',
      hint: 'CoNLL is token<TAB>tag[<TAB>extra...] per line, a blank line between sentences',
    });
  }
}

// An entity type is one word (letters, digits, _; starting with a letter): `B-Foo-Bar`, `B--` or
// `I-?` are typos or another scheme, and would silently become types of their own.
const TAG_RE = /^(?:O|[BIES]-[A-Za-z][A-Za-z0-9_]*)$/;
// C0 controls except TAB (the separator), DEL and C1 controls: these never belong in a token and
// usually mean a binary or mis-decoded file.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** Splits one line into columns: tab-separated when it has a tab, else on runs of spaces. */
function columnsOf(line: string): string[] {
  return line.includes('\t') ? line.split('\t') : line.split(/ +/);
}

/**
 * Parses CoNLL text into sentences. Tolerates CRLF, runs of blank lines, trailing spaces and a
 * missing final newline; a line with the wrong number of columns, an empty token, a control
 * character or an invalid tag throws {@link ConllParseError} naming the source and line.
 */
export function parseConll(text: string, options: ParseConllOptions): ConllSentence[] {
  const out: ConllSentence[] = [];
  for (const s of iterateConll(text, options)) out.push(s);
  return out;
}

/** Lazily parses CoNLL text, yielding one sentence at a time (same rules as {@link parseConll}). */
export function* iterateConll(text: string, options: ParseConllOptions): Generator<ConllSentence> {
  const { source } = options;
  const validateTags = options.validateTags ?? true;
  const maxTokens = options.maxTokens ?? 5000;
  let expected = options.columns;
  let cur: ConllSentence | null = null;
  let index = 0;
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  // Strip a UTF-8 byte order mark: editors on Windows add one and it would glue onto the first token.
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos <= len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    let raw = text.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const line = raw.replace(/[ ]+$/, '');
    if (line.trim() === '') {
      if (cur) {
        yield cur;
        cur = null;
      }
      if (nl === len) break;
      continue;
    }
    const cols = columnsOf(line);
    if (expected === undefined) {
      if (cols.length < 2)
        throw new ConllParseError(
          source,
          lineNo,
          `expected at least 2 columns (token<TAB>tag), found ${cols.length}: ${JSON.stringify(line)}`,
        );
      expected = cols.length;
    }
    if (cols.length !== expected)
      throw new ConllParseError(
        source,
        lineNo,
        `expected ${expected} columns, found ${cols.length}: ${JSON.stringify(line)}`,
      );
    const token = cols[0] ?? '';
    const tag = cols[1] ?? '';
    if (token === '') throw new ConllParseError(source, lineNo, 'empty token');
    if (CONTROL_RE.test(line))
      throw new ConllParseError(source, lineNo, `control character in ${JSON.stringify(line)}`);
    if (validateTags && !TAG_RE.test(tag))
      throw new ConllParseError(
        source,
        lineNo,
        `invalid tag ${JSON.stringify(tag)}: valid tags are O, B-<type>, I-<type> (E-/S- for IOBES), the type one word (letters, digits, _)`,
      );
    if (!cur) {
      cur = {
        id: `${source}:${index++}`,
        tokens: [],
        tags: [],
        extra: Array.from({ length: expected - 2 }, () => []),
        lines: [],
      };
    }
    if (cur.tokens.length >= maxTokens)
      throw new ConllParseError(
        source,
        lineNo,
        `sentence starting at line ${cur.lines[0]} exceeds ${maxTokens} tokens (missing blank line?)`,
      );
    cur.tokens.push(token);
    cur.tags.push(tag);
    for (let c = 2; c < cols.length; c++) cur.extra[c - 2]!.push(cols[c]!);
    cur.lines.push(lineNo);
    if (nl === len) break;
  }
  if (cur) yield cur;
}

/** A sentence to write: tokens, tags and optional extra columns. */
export interface ConllWritable {
  tokens: readonly string[];
  tags: readonly string[];
  extra?: readonly (readonly string[])[];
}

/**
 * Formats sentences as CoNLL (`token<TAB>tag[<TAB>extra...]`, blank line after each sentence).
 * Throws when a sentence is empty, lengths differ, or a token holds whitespace (it would not
 * read back as one token).
 */
export function formatConll(sentences: Iterable<ConllWritable>): string {
  const parts: string[] = [];
  let i = 0;
  for (const s of sentences) {
    parts.push(formatConllSentence(s, i++));
  }
  return parts.join('');
}

/** Formats one sentence (with its trailing blank line); `name` (an index or id) only names it in errors. */
export function formatConllSentence(s: ConllWritable, name: number | string = 0): string {
  const n = s.tokens.length;
  // An empty sentence would write a bare blank line, which reads back as no sentence at all.
  if (n === 0) throw new Error(`formatConll: sentence ${name} is empty`);
  if (s.tags.length !== n)
    throw new Error(`formatConll: sentence ${name} has ${n} tokens but ${s.tags.length} tags`);
  const extra = s.extra ?? [];
  for (const col of extra)
    if (col.length !== n)
      throw new Error(`formatConll: sentence ${name} has ${n} tokens but an extra column of ${col.length}`);
  let out = '';
  for (let t = 0; t < n; t++) {
    const tok = s.tokens[t]!;
    if (tok === '' || /\s/.test(tok))
      throw new Error(
        `formatConll: sentence ${name} token ${t} ${JSON.stringify(tok)} is empty or holds whitespace`,
      );
    out += tok + '\t' + s.tags[t]!;
    for (const col of extra) out += '\t' + col[t]!;
    out += '\n';
  }
  return out + '\n';
}
