// Word tokenizer with character offsets, matching the tokenization of the biomedical NER corpora.
//
// The corpora disagree with each other, so the tokenizer has one style per convention:
// - `split`  (NCBI-disease, BC2GM): every punctuation character is a token ("190 - kD", "0 . 54").
// - `runs`   (BC5CDR): letters/digits joined by inner hyphens or apostrophes form a word; a run of
//            punctuation stays one token ("( 17 %)", "kg (- 1 ).").
// - `ptb`    (JNLPBA/GENIA, EBM-NLP): PTB-like; hyphens, slashes, inner periods, "=", "+" stay in
//            the word ("NF-kappa", "PU.1", "CD4+", "and/or", "P=0.67"); brackets, commas,
//            semicolons, colons, "%" and the text-final period are split off, abbreviations and
//            initials keep their period ("e.g.", "E. coli"), "'s" is its own token.
// Whitespace never belongs to a token, so tokens never cross a space.

import { NON_FINAL_ABBREVIATIONS } from './abbreviations.ts';
import { checkText } from './sentences.ts';

/** One token: `text === source.slice(start, end)`. */
export interface Token {
  text: string;
  start: number;
  end: number;
}

/** Tokenization conventions (see the file comment). */
export type TokenizerStyle = 'split' | 'runs' | 'ptb';

/** The corpora of shared/data/ner and the style that reproduces each one's tokens. */
export const CORPUS_STYLES = {
  bc5cdr: 'runs',
  ncbi: 'split',
  bc2gm: 'split',
  jnlpba: 'ptb',
  ebmnlp: 'ptb',
} as const satisfies Record<string, TokenizerStyle>;

/** Names accepted by `styleFor`: a style or a corpus name. */
export type StyleName = TokenizerStyle | keyof typeof CORPUS_STYLES;

/** Options of the tokenizer. */
export interface TokenizeOptions {
  /** A style, or a corpus name whose style to use (default `ptb`). */
  style: StyleName;
  /** Control characters other than tab/newline/CR/FF: throw, or treat as space. */
  controlChars: 'error' | 'space';
}

/** Defaults of `TokenizeOptions`. */
export const defaultTokenizeOptions: TokenizeOptions = { style: 'ptb', controlChars: 'error' };

const STYLES: readonly string[] = ['split', 'runs', 'ptb'];

/** Resolves a style or corpus name; throws naming the valid options. */
export function styleFor(name: string): TokenizerStyle {
  if (STYLES.includes(name)) return name as TokenizerStyle;
  const s = (CORPUS_STYLES as Record<string, TokenizerStyle>)[name];
  if (s) return s;
  throw new RangeError(
    `tokenize: unknown style "${name}"; valid: ${[...STYLES, ...Object.keys(CORPUS_STYLES)].join(', ')}`,
  );
}

// Abbreviations that keep their final period inside a sentence in the PTB-like corpora.
const ABBREV = new Set([
  'al',
  'ca',
  'e.g',
  'i.e',
  'vs',
  'approx',
  'cf',
  'viz',
  'etc',
  'fig',
  'figs',
  'no',
  'dr',
  'mr',
  'mrs',
  'ms',
  'prof',
  'st',
  'inc',
  'ltd',
  'co',
  'jr',
  'sp',
  'spp',
  'ssp',
  'var',
  'vol',
  'pp',
  'ref',
  'refs',
  'eq',
  'resp',
  'min',
  'max',
  'wk',
  'wks',
  'yr',
  'yrs',
  'mo',
  'mos',
  'hr',
  'hrs',
  'sec',
  'mg',
  'kg',
  'ml',
  'dl',
  'u.s',
  'b.i.d',
  't.i.d',
  'q.d',
  'i.v',
  'i.m',
  'i.p',
  's.c',
  'p.o',
]);

const ALNUM = /[\p{L}\p{N}\p{M}]/u;
const SPACE = /\s/u;

/**
 * Tokenizes text into words with character offsets (pure; linear in the text length).
 * Throws TextInputError for a non-string or, by default, control characters.
 */
export function tokenize(text: string, options: Partial<TokenizeOptions> = {}): Token[] {
  const opts = { ...defaultTokenizeOptions, ...options };
  const style = styleFor(opts.style);
  checkText(text, 'tokenize', opts.controlChars);
  const out: Token[] = [];
  const chunks: Array<[number, number]> = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i), text[i]!)) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isSpace(text.charCodeAt(i), text[i]!)) i++;
    chunks.push([s, i]);
  }
  for (let c = 0; c < chunks.length; c++) {
    const [s, e] = chunks[c]!;
    const last = c === chunks.length - 1;
    const pieces =
      style === 'split'
        ? splitAll(text, s, e)
        : style === 'runs'
          ? runs(text, s, e)
          : peel(text, s, e, last, c === 0);
    for (const [a, b] of pieces) out.push({ text: text.slice(a, b), start: a, end: b });
  }
  return out;
}

function isSpace(code: number, ch: string): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  if (code < 128) return code < 32 || code === 127;
  return SPACE.test(ch);
}

function isAlnum(ch: string | undefined): boolean {
  return ch !== undefined && ALNUM.test(ch);
}

/** `split` style: runs of letters/digits, and every other character alone. */
function splitAll(text: string, s: number, e: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = s;
  while (i < e) {
    const st = i;
    if (isAlnum(text[i])) {
      while (i < e && isAlnum(text[i])) i++;
    } else {
      // Keep a surrogate pair together so offsets never cut a code point.
      i += codePointLength(text, i);
    }
    out.push([st, i]);
  }
  return out;
}

/** `runs` style: words (inner - ' ’ and digit,digit allowed) and runs of punctuation. */
function runs(text: string, s: number, e: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = s;
  while (i < e) {
    const st = i;
    if (isAlnum(text[i])) {
      i++;
      for (;;) {
        while (i < e && isAlnum(text[i])) i++;
        // Inner connectors keep a word together: "D-penicillamine", "Parkinson's", "5,7-DHT",
        // "N,N'-dibenzhydryl", "3',5'-monophosphate", "Hoehn_Yahr".
        const c = text[i];
        const c2 = text[i + 1];
        let k = 0;
        if ((c === "'" || c === '’') && (c2 === ',' || c2 === '-') && isAlnum(text[i + 2])) k = 2;
        else if ((c === '-' || c === "'" || c === '’' || c === '_' || c === ',') && isAlnum(c2)) k = 1;
        if (k > 0 && i + k < e) {
          i += k;
          continue;
        }
        break;
      }
    } else {
      while (i < e && !isAlnum(text[i])) i++;
    }
    out.push([st, i]);
  }
  return out;
}

function codePointLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
}

const LEAD = new Set(['(', '[', '{', '"', '“', '‘', '<', '>', '`']);
const TRAIL = new Set([')', ']', '}', ',', ';', ':', '.', '?', '!', '"', '”', '’', "'", '%']);
const OPEN_OF: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * `ptb` style: peel opening punctuation off the front and closing punctuation off the
 * back of a whitespace chunk, keeping what belongs to the word (balanced inner brackets,
 * abbreviation periods, "CD4+", "alpha-"), then split the clitic "'s".
 */
function peel(
  text: string,
  s: number,
  e: number,
  lastChunk: boolean,
  firstChunk: boolean,
): Array<[number, number]> {
  const front: Array<[number, number]> = [];
  const back: Array<[number, number]> = [];
  // "``" and "''" are GENIA's quote tokens.
  while (s < e) {
    if (text.startsWith('``', s) && s + 2 <= e) {
      front.push([s, s + 2]);
      s += 2;
      continue;
    }
    const c = text[s]!;
    if (LEAD.has(c) && s + 1 <= e) {
      front.push([s, s + 1]);
      s += 1;
      continue;
    }
    break;
  }
  const base = s;
  const closesInner = innerClosers(text, s, e);
  while (e > s) {
    if (text.startsWith("''", e - 2) && e - 2 >= s) {
      back.push([e - 2, e]);
      e -= 2;
      continue;
    }
    const c = text[e - 1]!;
    if (!TRAIL.has(c)) break;
    if (c === '.') {
      // Abbreviations are short; a long word never keeps its period (and is not copied).
      const word = e - 1 - s <= 40 ? text.slice(s, e - 1) : '';
      // The text's final period is always split off; one before ")" is not final ("(N.S.).").
      const atEnd = lastChunk && back.length === 0;
      if (keepsPeriod(word, atEnd)) break;
      // "4. When apoptotic ...": an enumeration label opening the text keeps its period.
      if (firstChunk && !lastChunk && /^\d{1,2}$/.test(word) && front.length === 0) break;
    }
    // A closer that matches an opener inside the word stays: "poly(ADP-ribose)", "PGE(2)".
    if (OPEN_OF[c] !== undefined && closesInner[e - 1 - base] === 1) break;
    if ((c === "'" || c === '’') && e - 1 > s && !/["'’]/.test(text[s - 1] ?? '')) {
      // A closing single quote only comes off when the word opened with one.
      break;
    }
    back.push([e - 1, e]);
    e -= 1;
  }
  const mid: Array<[number, number]> = [];
  if (e > s) {
    // The clitic 's (and ’s) is a token of its own: "Parkinson 's".
    if (e - s > 2 && /['’][sS]$/.test(text.slice(e - 2, e)) && isAlnum(text[e - 3])) {
      mid.push([s, e - 2], [e - 2, e]);
    } else mid.push([s, e]);
  }
  return [...front, ...mid, ...back.reverse()];
}

/**
 * Marks, for each char of text[s, e), whether it is a closer matching an earlier opener of the
 * same kind inside the range. One left-to-right pass, so peeling stays linear in the chunk.
 */
function innerClosers(text: string, s: number, e: number): Uint8Array {
  const out = new Uint8Array(e - s);
  const depth: Record<string, number> = { '(': 0, '[': 0, '{': 0 };
  for (let i = s; i < e; i++) {
    const c = text[i]!;
    if (c in depth) depth[c]! += 1;
    else {
      const o = OPEN_OF[c];
      if (o !== undefined && depth[o]! > 0) {
        depth[o]! -= 1;
        out[i - s] = 1;
      }
    }
  }
  return out;
}

/** Whether a word keeps its final period: abbreviations and initials inside a sentence. */
function keepsPeriod(word: string, lastChunk: boolean): boolean {
  if (lastChunk || word === '') return false;
  const lw = word.toLowerCase();
  if (ABBREV.has(lw) || NON_FINAL_ABBREVIATIONS.has(lw)) return true;
  // Initials and dotted abbreviations: "E. coli", "e.g.", "D.E."
  // Initials ("E. coli", "A. B. Smith") and one-letter units inside a text ("48 h. Before").
  if (/^\p{L}$/u.test(word)) return true;
  if (/^(?:\p{L}\.)+\p{L}$/u.test(word)) return true;
  return false;
}

const NO_SPACE_BEFORE = /^[,.;:)\]}%?!][^\p{L}\p{N}]*$/u;
const NO_SPACE_AFTER = /^[^\p{L}\p{N}]*[([{]$/u;

/**
 * Joins tokens back into text: `space` puts one space between tokens; `human` uses the spacing of
 * written text (no space before , . ; : ) ] % 's n't, none after ( [ {).
 */
export function joinTokens(tokens: readonly string[], spacing: 'space' | 'human'): string {
  if (spacing === 'space') return tokens.join(' ');
  let out = '';
  let glueNext = true;
  for (const t of tokens) {
    const glue = glueNext || NO_SPACE_BEFORE.test(t) || /^(?:['’][sS]|n't)$/.test(t);
    out += glue ? t : ` ${t}`;
    glueNext = NO_SPACE_AFTER.test(t);
  }
  return out;
}
