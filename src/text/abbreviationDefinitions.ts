// Abbreviation definitions in running text, after Schwartz & Hearst (2003), "A simple algorithm for
// identifying abbreviation definitions in biomedical text": a parenthesised short form right after its
// long form ("nonsteroidal anti-inflammatory drugs (NSAIDs)"), the reverse ("NSAIDs (nonsteroidal
// anti-inflammatory drugs)"), and both inside one pair of parentheses ("... (tumour necrosis factor,
// TNF)"). The long form is the shortest run of words ending right before the parenthesis whose letters
// contain the short form's letters and digits in order, the first one at the start of a word.
// Everything is returned with character offsets into the text given, so a caller that passes a whole
// abstract (title + " " + abstract) gets document offsets.

/** A piece of the text with its character offsets (`text === source.slice(start, end)`). */
export interface TextSpan {
  start: number;
  end: number;
  text: string;
}

/** Which surface pattern defined the abbreviation. */
export type DefinitionPattern =
  /** `long form (SF)` */
  | 'long-short'
  /** `SF (long form)` */
  | 'short-long'
  /** `(long form, SF)` or `(long form; SF)` */
  | 'inside';

/** One abbreviation definition found in the text. */
export interface AbbreviationDefinition {
  shortForm: TextSpan;
  longForm: TextSpan;
  pattern: DefinitionPattern;
}

/** Options of {@link findAbbreviationDefinitions}. */
export interface AbbreviationOptions {
  /** Longest short form in characters (Schwartz & Hearst: 10). */
  maxShortFormLength?: number;
  /** Most words in a short form (Schwartz & Hearst: 2). */
  maxShortFormWords?: number;
  /** Shortest short form (Schwartz & Hearst: 2); 1 admits a single capital letter ("testosterone (T)"). */
  minShortFormLength?: number;
}

const LETTER = /\p{L}/u;
const UPPER = /\p{Lu}/u;
const ALNUM = /[\p{L}\p{N}]/u;
// A sentence ends at . ! ? followed by whitespace; a long form never crosses one (the original works
// sentence by sentence).
const SENTENCE_END = /[.!?]\s/gu;

function isAlnum(ch: string | undefined): boolean {
  return ch !== undefined && ALNUM.test(ch);
}

function words(s: string): string[] {
  return s.split(/\s+/u).filter((w) => w !== '');
}

/** Short-form shape test of Schwartz & Hearst, plus length bounds: a letter, alphanumeric first character. */
export function isShortFormCandidate(s: string, options: AbbreviationOptions = {}): boolean {
  const maxLen = options.maxShortFormLength ?? 10;
  const maxWords = options.maxShortFormWords ?? 2;
  const minLen = options.minShortFormLength ?? 2;
  if (s.length < minLen || s.length > maxLen) return false;
  // A single character must be a capital letter: "(a)", "(1)" enumerate, they define nothing.
  if (s.length === 1) return UPPER.test(s);
  if (words(s).length > maxWords) return false;
  return LETTER.test(s) && isAlnum(s[0]);
}

/**
 * The shortest suffix of `window` (starting at a word start) that covers the short form's letters and
 * digits in order, the short form's first character starting a word; -1 when there is none. Returns
 * the index in `window` where that long form starts.
 */
export function bestLongFormStart(shortForm: string, window: string): number {
  const sf = shortForm.toLowerCase();
  const lf = window.toLowerCase();
  let s = sf.length - 1;
  let l = lf.length - 1;
  while (s >= 0) {
    const c = sf[s]!;
    if (!isAlnum(c)) {
      s--;
      continue;
    }
    // The first character of the short form must start a word of the long form.
    while (l >= 0 && (lf[l] !== c || (s === 0 && l > 0 && isAlnum(lf[l - 1])))) l--;
    if (l < 0) return -1;
    l--;
    s--;
  }
  // Back to the start of the word holding the match of the first character.
  const space = lf.lastIndexOf(' ', l);
  return space + 1;
}

/** Index of the ")" closing the "(" at `open`, honouring nesting; -1 when unbalanced. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) return i;
    } else if (ch === '\n') return -1;
  }
  return -1;
}

function trimmedSpan(text: string, start: number, end: number): TextSpan | null {
  while (start < end && /\s/u.test(text[start]!)) start++;
  while (end > start && /\s/u.test(text[end - 1]!)) end--;
  return end > start ? { start, end, text: text.slice(start, end) } : null;
}

/**
 * The long form of `sf` ending at `end` in `text` (searched back to `from`), checked against the
 * Schwartz & Hearst bounds: at most min(|SF| + 5, 2|SF|) words, longer than the short form, not
 * containing the short form as a word.
 */
function longFormBefore(text: string, from: number, end: number, sf: string): TextSpan | null {
  const window = trimmedSpan(text, from, end);
  if (!window) return null;
  const at = bestLongFormStart(sf, window.text);
  if (at < 0) return null;
  const lf = trimmedSpan(text, window.start + at, window.end);
  if (!lf) return null;
  const n = words(lf.text).length;
  if (lf.text.length <= sf.length || n > sf.length * 2 || n > sf.length + 5) return null;
  const lower = lf.text.toLowerCase();
  const sfl = sf.toLowerCase();
  if (lower.endsWith(sfl) || lower.includes(`${sfl} `)) return null;
  // A long form that starts inside the previous definition's parenthesis is not one.
  if (lf.text.includes('(') !== lf.text.includes(')')) return null;
  return lf;
}

/** Start of the sentence holding position `at` (after the last ". " before it), never before `floor`. */
function sentenceStart(text: string, at: number, floor: number): number {
  let start = floor;
  SENTENCE_END.lastIndex = floor;
  for (let m = SENTENCE_END.exec(text); m && m.index < at; m = SENTENCE_END.exec(text))
    start = m.index + m[0].length;
  return start;
}

/**
 * Finds abbreviation definitions in `text` (an abstract, or title + " " + abstract) with character
 * offsets into it, in text order. A short form defined twice is returned twice (callers usually take
 * the first, see {@link definitionsByShortForm}).
 */
export function findAbbreviationDefinitions(
  text: string,
  options: AbbreviationOptions = {},
): AbbreviationDefinition[] {
  const out: AbbreviationDefinition[] = [];
  let sentenceFloor = 0;
  for (let open = text.indexOf('('); open >= 0; open = text.indexOf('(', open + 1)) {
    const close = closingParen(text, open);
    if (close < 0) continue;
    const inner = trimmedSpan(text, open + 1, close);
    if (!inner) continue;
    sentenceFloor = sentenceStart(text, open, sentenceFloor);
    // "(SF, other things)" / "(SF; ...)": the part before the first ", " or "; " is the candidate.
    const cut = inner.text.search(/[,;]\s/u);
    const head = cut >= 0 ? trimmedSpan(text, inner.start, inner.start + cut) : inner;
    if (!head) continue;
    // 1. long form (SF)
    if (isShortFormCandidate(head.text, options)) {
      const lf = longFormBefore(text, sentenceFloor, open, head.text);
      if (lf) {
        out.push({ shortForm: head, longForm: lf, pattern: 'long-short' });
        continue;
      }
    }
    // 2. (long form, SF): the last comma- or semicolon-separated part is the short form.
    if (cut >= 0) {
      const lastSep = Math.max(inner.text.lastIndexOf(', '), inner.text.lastIndexOf('; '));
      const tail = trimmedSpan(text, inner.start + lastSep + 2, inner.end);
      if (tail && UPPER.test(tail.text) && isShortFormCandidate(tail.text, options)) {
        const lf = longFormBefore(text, inner.start, inner.start + lastSep, tail.text);
        // The long form must be the whole first part, not a suffix of a longer phrase.
        if (lf && lf.start === head.start) {
          out.push({ shortForm: tail, longForm: lf, pattern: 'inside' });
          continue;
        }
      }
    }
    // 3. SF (long form): the word right before the parenthesis, with a capital letter.
    let sfEnd = open;
    while (sfEnd > 0 && /\s/u.test(text[sfEnd - 1]!)) sfEnd--;
    let sfStart = sfEnd;
    while (sfStart > sentenceFloor && !/\s/u.test(text[sfStart - 1]!)) sfStart--;
    const sf = trimmedSpan(text, sfStart, sfEnd);
    if (!sf || !UPPER.test(sf.text) || !isShortFormCandidate(sf.text, options)) continue;
    if (sf.text.length >= head.text.length) continue;
    const lf = longFormBefore(text, head.start, head.end, sf.text);
    if (lf && lf.start === head.start) out.push({ shortForm: sf, longForm: lf, pattern: 'short-long' });
  }
  return out;
}

/** The first definition of each short form (case-sensitive), in text order. */
export function definitionsByShortForm(
  definitions: readonly AbbreviationDefinition[],
): Map<string, AbbreviationDefinition> {
  const byShort = new Map<string, AbbreviationDefinition>();
  for (const d of definitions) if (!byShort.has(d.shortForm.text)) byShort.set(d.shortForm.text, d);
  return byShort;
}

/**
 * Every occurrence of `shortForm` in `text` as a whole token (not inside a longer word or number):
 * "NSAIDs" in "NSAIDs-induced" counts, in "pNSAIDs" it does not. Case-sensitive unless `ignoreCase`,
 * as abbreviations are.
 */
export function shortFormOccurrences(
  text: string,
  shortForm: string,
  options: { ignoreCase?: boolean } = {},
): TextSpan[] {
  if (shortForm === '') return [];
  // indexOf plus a boundary test: a RegExp built per call (lookbehind, Unicode classes) cost more
  // than all other document-level work together when called for every mention string of a stream.
  let hay = text;
  let needle = shortForm;
  if (options.ignoreCase) {
    hay = text.toLowerCase();
    needle = shortForm.toLowerCase();
    // Lower-casing that changes lengths (a few non-ASCII letters) would shift offsets: compare per match.
    if (hay.length !== text.length || needle.length !== shortForm.length)
      return occurrencesFolded(text, shortForm);
  }
  const out: TextSpan[] = [];
  let at = hay.indexOf(needle);
  while (at >= 0) {
    const end = at + needle.length;
    if (isWordCharBefore(text, at) || isWordCharAt(text, end)) {
      at = hay.indexOf(needle, at + 1);
      continue;
    }
    out.push({ start: at, end, text: text.slice(at, end) });
    // Matches do not overlap (as a global RegExp reads them).
    at = hay.indexOf(needle, end);
  }
  return out;
}

function isWordCharAt(text: string, i: number): boolean {
  const c = text.codePointAt(i);
  return c !== undefined && ALNUM.test(String.fromCodePoint(c));
}

function isWordCharBefore(text: string, i: number): boolean {
  if (i <= 0) return false;
  // A low surrogate before `i` belongs to an astral character starting one unit earlier.
  const lo = text.charCodeAt(i - 1);
  const start = lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  return isWordCharAt(text, start);
}

/** Case-insensitive occurrences where lower-casing changes string lengths: a Unicode-aware RegExp. */
function occurrencesFolded(text: string, shortForm: string): TextSpan[] {
  const escaped = shortForm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'giu');
  const out: TextSpan[] = [];
  for (const m of text.matchAll(re)) out.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  return out;
}
