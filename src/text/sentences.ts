// Rules-based sentence splitter for PubMed titles and abstracts, with character offsets.
//
// A boundary candidate is a run of terminal punctuation (. ? !), optionally followed by closing
// quotes or brackets, then whitespace or the end of the text. Each candidate is then accepted or
// rejected by the rules in `isBoundary` (abbreviations, species names, initials, enumerations,
// citations, brackets, lower-case continuations). Section headings (BACKGROUND:, METHODS:, ...)
// and blank lines start a new sentence even without punctuation. Offsets are UTF-16 code-unit
// indices (JavaScript string indices), trimmed of surrounding whitespace.

import { StreamError } from '../engine/errors.ts';
import {
  GREEK_LETTERS,
  MAYBE_FINAL_ABBREVIATIONS,
  NON_FINAL_ABBREVIATIONS,
  SECTION_HEADINGS,
  CONNECTIVES,
} from './abbreviations.ts';

/** One sentence: `text === source.slice(start, end)`, no leading or trailing whitespace. */
export interface SentenceSpan {
  start: number;
  end: number;
  text: string;
}

/** Options of the splitter; every field has a default. */
export interface SplitOptions {
  /** Matched brackets longer than this (in chars) do not block boundaries inside them. */
  maxBracketSpan: number;
  /** What to do with control characters other than tab, newline, CR, form feed: throw or treat as space. */
  controlChars: 'error' | 'space';
  /** Start a sentence at structured-abstract headings (BACKGROUND:, METHODS:, ...). */
  headings: boolean;
  /**
   * A sentence-initial enumeration label ("1. This study ...", "2. The cells ..."): `separate`
   * makes it a sentence of its own, `attach` keeps it with the sentence it numbers (GENIA's hand
   * splits do both; `attach` agrees with more of them).
   */
  enumerations: 'separate' | 'attach';
  /**
   * `splitArticle` only: split the title like the abstract. Off by default: GENIA's hand splits
   * never split a title; CDR-style titles with a subtitle ("X. A case report.") split when on.
   */
  splitTitle: boolean;
}

/** Defaults of `SplitOptions`. */
export const defaultSplitOptions: SplitOptions = {
  maxBracketSpan: 400,
  controlChars: 'error',
  headings: true,
  enumerations: 'attach',
  splitTitle: false,
};

/** Thrown for text the splitter or tokenizer refuses (not a string, control characters). */
export class TextInputError extends StreamError {
  constructor(
    message: string,
    override readonly step: string,
    readonly offset?: number,
  ) {
    super(`${step}: ${message}`, {
      stage: 'text',
      step,
      hint: 'pass a string without control characters (other than tab and newline)',
    });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/;

/** Validates splitter/tokenizer input: a string without stray control characters (unless allowed). */
export function checkText(text: unknown, step: string, controlChars: 'error' | 'space'): string {
  if (typeof text !== 'string')
    throw new TextInputError(`expected a string, got ${text === null ? 'null' : typeof text}`, step);
  if (controlChars === 'error') {
    const m = CONTROL.exec(text);
    if (m)
      throw new TextInputError(
        `control character U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at offset ${m.index}; ` +
          `clean the input or pass controlChars: 'space' (valid: 'error' | 'space')`,
        step,
        m.index,
      );
  }
  return text;
}

const OPENERS = '([{';
const CLOSERS = ')]}';
const WS = /\s/u;
const UPPER = /^\p{Lu}/u;
const LOWER = /^\p{Ll}/u;
const DIGIT = /^\p{Nd}/u;

/** Index of the opener matching the closer at `close`, or -1. */
function matchingOpen(text: string, close: number): number {
  const want = OPENERS[CLOSERS.indexOf(text[close]!)];
  let depth = 0;
  // Parentheticals are short; looking back a bounded distance keeps the splitter linear.
  for (let i = close - 1; i >= 0 && i >= close - 400; i--) {
    const c = text[i]!;
    if (c === text[close]) depth++;
    else if (c === want) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function isSpace(c: string | undefined): boolean {
  return c !== undefined && (WS.test(c) || CONTROL.test(c));
}

/**
 * Marks where matched brackets cover the text: `cover[p] > 0` when position p lies strictly
 * inside a matched pair no longer than `maxSpan`. Unmatched brackets are ignored, so a stray
 * "(" never swallows the rest of an abstract.
 */
function bracketCover(text: string, maxSpan: number): Int32Array {
  const diff = new Int32Array(text.length + 2);
  const stack: Array<{ ch: string; at: number }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const o = OPENERS.indexOf(c);
    if (o >= 0) {
      stack.push({ ch: c, at: i });
      continue;
    }
    const k = CLOSERS.indexOf(c);
    if (k < 0) continue;
    const want = OPENERS[k];
    // Pop to the nearest matching opener; openers skipped on the way are unmatched.
    for (let j = stack.length - 1; j >= 0; j--) {
      if (stack[j]!.ch === want) {
        const open = stack[j]!.at;
        stack.length = j;
        if (i - open <= maxSpan) {
          diff[open + 1]! += 1;
          diff[i + 1]! -= 1;
        }
        break;
      }
    }
  }
  const cover = new Int32Array(text.length + 1);
  let run = 0;
  for (let i = 0; i <= text.length; i++) {
    run += diff[i]!;
    cover[i] = run;
  }
  return cover;
}

/** The whitespace-delimited token that ends at `end` (exclusive). */
function tokenBefore(text: string, end: number): { start: number; word: string } {
  let s = end;
  while (s > 0 && !isSpace(text[s - 1])) s--;
  return { start: s, word: text.slice(s, end) };
}

/** The whitespace-delimited token that starts at `start`. */
function tokenAt(text: string, start: number): string {
  let e = start;
  while (e < text.length && !isSpace(text[e])) e++;
  return text.slice(start, e);
}

const ENUM_LABEL = /^(?:\d{1,2}|[ivx]{1,4}|[IVX]{1,4}|[a-hA-H])$/;
const DOTTED = /^(?:\p{L}\.)+\p{L}?$/u;
const GENE_LIKE = /^\p{Ll}+[\p{Lu}\p{Nd}-]/u;
const INITIALS = /^\p{Lu}(?:\.\p{Lu})*$/u;
const CITATION_YEAR = /^\((?:\d{4}|in press)/;

/** Decides whether the candidate ending at `end` (after punctuation and closers) is a boundary. */
function isBoundary(
  text: string,
  runStart: number,
  punct: string,
  end: number,
  next: number,
  sentStart: number,
  cover: Int32Array,
  opts: SplitOptions,
): boolean {
  if (next >= text.length) return true;
  // Inside a matched (short) bracket pair: "(n = 19. see below)" is one sentence.
  if (cover[end]! > 0) return false;
  const nextTok = tokenAt(text, next);
  const nextCh = text[next]!;
  const { start: wStart, word } = tokenBefore(text, runStart);
  // The word before the period, without leading brackets/quotes.
  const core = word.replace(/^[([{"'“‘]+/u, '');
  const lc = core.toLowerCase();

  // Acronyms in capitals ("CF.", "MR.", "SR.") are words, not the abbreviations cf., Mr., Sr.
  const acronym = /^\p{Lu}[\p{Lu}\p{Nd}-]+$/u.test(core);
  if (punct === '.') {
    // One-letter entries ("p.", "v.") count only in lower case: "factor V." ends sentences.
    if (!acronym && NON_FINAL_ABBREVIATIONS.has(lc) && !/^\p{Lu}$/u.test(core)) return false;
    // Author initials in a row: "Cohen, P. S., Chesney, J.".
    if (/^\p{Lu}$/u.test(core) && /^(?:\p{Lu}\.)+,?$/u.test(nextTok)) return false;
    // "J. Biol. Chem.", "J. Immunol.": an initial before a journal abbreviation is a citation.
    if (
      /^\p{Lu}$/u.test(core) &&
      /^\p{Lu}\p{Ll}+\.$/u.test(nextTok) &&
      NON_FINAL_ABBREVIATIONS.has(nextTok.slice(0, -1).toLowerCase())
    )
      return false;
    // "CTTGG ... CCAAG": an ellipsis marks an omission inside a sentence.
    if (text.startsWith('...', runStart)) return false;
    if (ENUM_LABEL.test(core)) {
      // The last non-space char before the label (scanning back over spaces only keeps this O(1)).
      let p = wStart - 1;
      while (p >= sentStart && isSpace(text[p])) p--;
      // Enumeration label opening a sentence: its own sentence, or part of the next one.
      if (p < sentStart) return opts.enumerations === 'separate' && !LOWER.test(text[next]!);
      // "steps: 1. Wash the cells" stays one sentence.
      if (text[p] === ':' || text[p] === ';') return false;
    }
  }
  // "(1 mg at 11 p.m.) Type I receptors ...": a period closed inside a parenthetical that opened
  // mid-sentence belongs to the parenthetical.
  if (runStart + 1 < end && /[)\]]/.test(text[end - 1]!) && /[.?!]/.test(text[end - 2]!)) {
    const open = matchingOpen(text, end - 1);
    if (open > sentStart && text.slice(sentStart, open).trim() !== '') return false;
  }

  const nextCore = nextTok.replace(/^[([{"'“‘]+/u, '');
  // Lower-case continuation: only a gene-like token ("p53", "c-myc", "mRNA") or a Greek letter
  // name opens a sentence in lower case, and never after an abbreviation or a genus initial.
  if (LOWER.test(nextCh)) {
    if (punct !== '.') return false;
    if (!(GENE_LIKE.test(nextCore) || GREEK_LETTERS.has(nextCore.toLowerCase().replace(/[^a-z].*$/, ''))))
      return false;
    if (DOTTED.test(core) || MAYBE_FINAL_ABBREVIATIONS.has(lc)) return false;
    // After a capital initial, "E. coli" and "E. coli-derived" continue; "NF-kappa B. p53 ..." and
    // "protein kinase C. cAMP ..." start a sentence (a digit or a capital inside the next word).
    if (/^\p{Lu}$/u.test(core) && !/^\p{Ll}+[\p{Lu}\p{Nd}]/u.test(nextCore)) return false;
    return true;
  }
  if (punct === '.') {
    // "et al. (1995)", "D.G. (1995)": a citation year continues the sentence.
    if (CITATION_YEAR.test(nextTok)) return false;
    if (MAYBE_FINAL_ABBREVIATIONS.has(lc) && !UPPER.test(nextCh)) return false;
    // Author lists: "(W.Q. Jiang, L. Szekely, and A. Rosen, Exp. Cell Res.)": initials before a
    // surname and a comma. "NF-kappa B. However, ..." and "protein kinase C. The ..." still split.
    if (INITIALS.test(core) && /^\p{Lu}[\p{Ll}'-]+,$/u.test(nextTok)) {
      if (!CONNECTIVES.has(nextTok.slice(0, -1).toLowerCase())) return false;
    }
  }
  if (nextTok.startsWith('--')) return true;
  if (UPPER.test(nextCh) || DIGIT.test(nextCh)) return true;
  if (OPENERS.includes(nextCh) || /["'“‘]/u.test(nextCh)) return true;
  return false;
}

/**
 * Splits text into sentences with character offsets (pure; linear in the text length).
 * Throws TextInputError for a non-string or, by default, control characters.
 */
export function sentenceSpans(text: string, options: Partial<SplitOptions> = {}): SentenceSpan[] {
  const opts = { ...defaultSplitOptions, ...options };
  checkText(text, 'split', opts.controlChars);
  const cover = bracketCover(text, opts.maxBracketSpan);
  const cuts: number[] = [];
  let sentStart = 0;
  // Third form: a period with the space missing between two words ("thrombo-embolism.One trial");
  // journal abbreviations ("Proc.Natl") are then rejected like any abbreviation.
  const CAND = /[.?!]+(?:["'”’)\]}»]*)(?=[\s\p{Cc}]|$)|\n[^\S\n]*\n|(?<=\p{Ll}{3})\.(?=\p{Lu}\p{Ll})/gu;
  // Heading positions are candidates too: a heading opens a sentence even without punctuation.
  const headingCuts = new Set<number>();
  if (opts.headings) {
    const H = /(?<=^|\s)((?:[A-Z]+|&)(?: (?:[A-Z]+|&))*):\s/g;
    for (let m = H.exec(text); m; m = H.exec(text)) {
      if (isHeading(m[1]!)) headingCuts.add(m.index);
    }
  }
  // Editorial notes run into the abstract ("... expression [published erratum appears in ...]
  // It is believed ..."): the note ends a sentence.
  const N =
    /\[(?:see comments?|published erratum|erratum|comment|retracted|corrected)[^\]]{0,300}\](?=\s+\p{Lu})/giu;
  for (let m = N.exec(text); m; m = N.exec(text)) headingCuts.add(m.index + m[0].length);
  const pushCut = (at: number): void => {
    cuts.push(at);
    sentStart = at;
  };
  const headingList = [...headingCuts].sort((a, b) => a - b);
  let h = 0;
  for (let m = CAND.exec(text); m; m = CAND.exec(text)) {
    while (h < headingList.length && headingList[h]! < m.index) {
      if (headingList[h]! > sentStart) pushCut(headingList[h]!);
      h++;
    }
    if (m[0].startsWith('\n')) {
      pushCut(m.index + m[0].length);
      continue;
    }
    const end = m.index + m[0].length;
    let next = end;
    while (next < text.length && isSpace(text[next])) next++;
    // The last punctuation char of the run decides ("?." ends like ".").
    const punct = m[0].replace(/[^.?!]+$/u, '').slice(-1);
    if (headingCuts.has(next) || isBoundary(text, m.index, punct, end, next, sentStart, cover, opts)) {
      // A closing quote separated by a space still belongs here when the sentence has an odd count.
      let cut = end;
      const q = text[next];
      if (q === '"' && isSpace(text[next + 1]) && countChar(text, '"', sentStart, end) % 2 === 1)
        cut = next + 1;
      pushCut(cut);
    }
  }
  while (h < headingList.length) {
    if (headingList[h]! > sentStart) pushCut(headingList[h]!);
    h++;
  }
  cuts.push(text.length);
  return spansFromCuts(text, cuts);
}

const HEADING_WORDS = new Set([...SECTION_HEADINGS].flatMap((h) => h.split(' ')));

/** A structured-abstract heading: a known one, or capitals made only of known heading words. */
function isHeading(h: string): boolean {
  const norm = h.replace(/&/g, 'AND').replace(/\s+/g, ' ');
  if (SECTION_HEADINGS.has(norm)) return true;
  const words = norm.split(' ');
  return words.length > 1 && words.every((w) => HEADING_WORDS.has(w));
}

function countChar(text: string, ch: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text[i] === ch) n++;
  return n;
}

function spansFromCuts(text: string, cuts: number[]): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  let prev = 0;
  for (const c of cuts) {
    let s = prev;
    let e = c;
    while (s < e && isSpace(text[s])) s++;
    while (e > s && isSpace(text[e - 1])) e--;
    if (e > s) out.push({ start: s, end: e, text: text.slice(s, e) });
    prev = c;
  }
  return out;
}

/** A title and abstract, as in PubTator and the PubmedArticle schema. */
export interface TitledText {
  title: string;
  abstract: string;
}

/**
 * Splits a PubMed article: offsets index into title + " " + abstract. The title is one sentence
 * unless `splitTitle` (GENIA's gold never splits one); the abstract is split by `sentenceSpans`.
 */
export function splitArticle(doc: TitledText, options: Partial<SplitOptions> = {}): SentenceSpan[] {
  const opts = { ...defaultSplitOptions, ...options };
  const title = checkText(doc.title, 'split', opts.controlChars);
  const abstract = checkText(doc.abstract, 'split', opts.controlChars);
  const full = `${title} ${abstract}`;
  const out: SentenceSpan[] = [];
  out.push(...(opts.splitTitle ? sentenceSpans(title, opts) : spansFromCuts(full, [title.length])));
  const off = title.length + 1;
  for (const s of sentenceSpans(abstract, opts))
    out.push({ start: s.start + off, end: s.end + off, text: s.text });
  return out;
}
