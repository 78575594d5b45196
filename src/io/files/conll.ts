import { basename } from 'node:path';
import type { LabeledSentence } from '../avro/types.generated.ts';
import { ConllParseError, formatConllSentence, parseConll, type ConllSentence } from '../../text/conll.ts';
import { firstBioError, repairBio } from '../../text/bio.ts';
import { stepLogger } from '../../obs/logger.ts';
import { FileFormatError } from './errors.ts';
import { readLines, type Line } from './lines.ts';
import type { ParsedRecord } from './fileSource.ts';

/** Options of the CoNLL reader. */
export interface ConllReadOptions {
  /** Sentence ids are `<idPrefix>:<n>` with n counted from 0 (default: the file's base name). */
  idPrefix?: string;
  /** Value of LabeledSentence.source (default: the path). */
  source?: string;
  /** Longest sentence in tokens; a longer one is an error, which bounds memory (default 10,000). */
  maxTokens?: number;
  /**
   * A BIO tag column where an `I-X` does not continue an entity of type X (after `O`, at the start,
   * after `B-Y`): `repair` (default) reads it as `B-X`, the conlleval/seqeval reading, and counts it
   * in one warning per file; `strict` dead-letters the sentence. Malformed tags are dead letters in
   * both modes. URI: `conll:<path>?bio=strict`.
   */
  bio?: 'repair' | 'strict';
}

/** The `bio` modes of the CoNLL reader. */
export const CONLL_BIO_MODES = ['repair', 'strict'] as const;

const KEYWORD_TAG = /^(O|[BIES](-\S+)?)$/;

/**
 * Reads the lines of one CoNLL sentence with the shared parser (src/text/conll.ts):
 * `token<TAB>tag` (2 columns) or `token<TAB>tag<TAB>POS<TAB>keyword-tag` (4 columns, the keywords
 * corpus, whose keyword tags may be bare B/I/O). Throws FileFormatError naming the file line.
 */
function parseConllSentence(
  lines: Line[],
  path: string,
  id: string,
  source: string,
  bio: 'repair' | 'strict',
  onRepair: (line: number) => void,
): LabeledSentence {
  const lineOf = (rel: number): number | undefined => lines[rel - 1]?.line;
  let sentence: ConllSentence | undefined;
  try {
    sentence = parseConll(lines.map((l) => l.text).join('\n'), {
      source: path,
      maxTokens: Number.MAX_SAFE_INTEGER,
    })[0];
  } catch (e) {
    if (!(e instanceof ConllParseError)) throw e;
    throw new FileFormatError('conll', path, lineOf(e.line), e.detail);
  }
  if (!sentence) throw new FileFormatError('conll', path, lineOf(1), 'empty sentence');
  const width = 2 + sentence.extra.length;
  if (width !== 2 && width !== 4) {
    throw new FileFormatError(
      'conll',
      path,
      lineOf(1),
      `expected 2 columns (token, tag) or 4 (token, tag, POS, keyword tag), got ${width}`,
    );
  }
  let tags = sentence.tags;
  // IOBES columns (E-/S-) are left as they are: the rule below is BIO's.
  const bad = tags.some((t) => t[0] === 'E' || t[0] === 'S') ? -1 : firstBioError(tags);
  if (bad >= 0) {
    const at = lineOf(sentence.lines[bad] ?? 1);
    if (bio === 'strict')
      throw new FileFormatError(
        'conll',
        path,
        at,
        `"${tags[bad]}" does not continue an entity of its type (after "${tags[bad - 1] ?? 'the sentence start'}"); without ?bio=strict it would be read as B-${tags[bad]!.slice(2)}`,
      );
    tags = repairBio(tags);
    onRepair(at ?? 0);
  }
  const keywordTags = width === 4 ? (sentence.extra[1] as string[]) : null;
  keywordTags?.forEach((t, i) => {
    if (!KEYWORD_TAG.test(t)) {
      throw new FileFormatError(
        'conll',
        path,
        lineOf(sentence.lines[i] ?? 1),
        `keyword tag "${t}" is not O, B[-X] or I[-X]`,
      );
    }
  });
  return { id, tokens: sentence.tokens, tags, keywordTags, source };
}

/**
 * Formats one labeled sentence as CoNLL lines plus the blank separator line, through the shared
 * writer (src/text/conll.ts): 2 columns, or 4 when it has keyword tags (POS is not part of
 * LabeledSentence: '_' keeps the 4-column layout the reader expects).
 */
export function formatLabeledSentence(s: {
  tokens: string[];
  tags: string[];
  keywordTags?: string[] | null;
  id?: string;
}): string {
  const kw = s.keywordTags ?? null;
  const extra = kw ? [s.tokens.map(() => '_'), kw] : [];
  return formatConllSentence({ tokens: s.tokens, tags: s.tags, extra }, s.id ?? '');
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
  const bio = opts.bio ?? 'repair';
  let repaired = 0;
  let firstRepair = 0;
  const onRepair = (line: number): void => {
    if (repaired++ === 0) firstRepair = line;
  };
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
      const value = parseConllSentence(lines, path, id, source, bio, onRepair);
      return { ok: true, value, key: id, line, raw };
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
  // One warning per file, not per sentence: a corpus converted from IO tags repairs thousands.
  if (repaired > 0)
    stepLogger('conll').warn(
      { path, repaired, firstLine: firstRepair },
      `conll:${path}: ${repaired} sentence(s) had an I-X not continuing an entity of type X (first at line ${firstRepair}); read as B-X. Use conll:<path>?bio=strict to dead-letter them instead`,
    );
}
