// De-linearization: generated text back into tokens + BIO tags. Anything doubtful is a typed
// failure, never a guessed label: a wrong label in augmented training data is worse than none.
import { bioToSpans } from '../../text/bio.ts';
import { LABEL_TOKEN, MASK, RESERVED_TOKEN, SEP, type LabelVocabulary } from './labels.ts';

/** Why a generated text was rejected. */
export type DelinearizeReason =
  | 'empty'
  | 'unbalanced-label'
  | 'unknown-label'
  | 'invalid-bio'
  | 'mask-left'
  | 'entity-altered'
  | 'too-long';

/** The outcome of {@link delinearize}. */
export type DelinearizeResult =
  | { ok: true; tokens: string[]; tags: string[] }
  | { ok: false; reason: DelinearizeReason; detail: string; index: number };

/** An entity the generation must reproduce (BioAug keeps gold entities in its input). */
export interface ExpectedEntity {
  type: string;
  tokens: readonly string[];
}

/** Options of {@link delinearize}. */
export interface DelinearizeOptions {
  /** Entities that must come back exactly (same types and words, same order); omit to skip the check. */
  expected?: readonly ExpectedEntity[];
  /** Longest output accepted, in words (default 5,000). */
  maxTokens?: number;
}

const GLUED_SPECIAL = /(<(?:[bi]-[^<>\s]+|mask|\/?s|pad|unk)>)/gi;

const fail = (reason: DelinearizeReason, detail: string, index: number): DelinearizeResult => ({
  ok: false,
  reason,
  detail,
  index,
});

/**
 * Parses linearized text (`<b-disease> colorectal <b-disease> cancer ...`) into tokens and BIO
 * tags. Strips a leading `<s>`, `<pad>`s, and everything from the first `</s>` on (knowledge or
 * end of sequence). Fails on an unbalanced or unknown label token, an I- tag that continues
 * nothing, a leftover `<mask>`, an empty result, or (with `expected`) altered entities.
 */
export function delinearize(
  text: string,
  vocab: LabelVocabulary,
  options: DelinearizeOptions = {},
): DelinearizeResult {
  const maxTokens = options.maxTokens ?? 5000;
  // Special tokens are words of their own even where a detokenizer glued text to them ("<b-x>.").
  let words = text
    .replace(GLUED_SPECIAL, ' $1 ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== '<pad>');
  if (words[0] === '<s>') words = words.slice(1);
  const sep = words.indexOf(SEP);
  if (sep >= 0) words = words.slice(0, sep);
  if (words.length === 0) return fail('empty', 'no words in the generated text', 0);
  if (words.length > 3 * maxTokens) return fail('too-long', `${words.length} words`, maxTokens);
  const tokens: string[] = [];
  const tags: string[] = [];
  let prevType: string | null = null;
  for (let i = 0; i < words.length;) {
    const w = words[i]!;
    const m = LABEL_TOKEN.exec(w);
    if (m) {
      const type = vocab.type(m[2]!);
      if (type === undefined)
        return fail('unknown-label', `label ${w} at word ${i}; known types: ${vocab.types().join(', ')}`, i);
      const word = words[i + 1];
      if (word === undefined || RESERVED_TOKEN.test(word) || words[i + 2] !== w)
        return fail(
          'unbalanced-label',
          `label ${w} at word ${i} is not followed by one word and a closing ${w}`,
          i,
        );
      if (m[1] === 'i' && prevType !== type)
        return fail('invalid-bio', `${w} at word ${i} continues no ${type} entity`, i);
      tokens.push(word);
      tags.push(`${m[1] === 'b' ? 'B' : 'I'}-${type}`);
      prevType = type;
      i += 3;
      continue;
    }
    if (w === MASK) return fail('mask-left', `<mask> left at word ${i}`, i);
    if (RESERVED_TOKEN.test(w)) return fail('unknown-label', `reserved token ${w} at word ${i}`, i);
    tokens.push(w);
    tags.push('O');
    prevType = null;
    i++;
  }
  if (tokens.length > maxTokens)
    return fail('too-long', `${tokens.length} tokens, limit ${maxTokens}`, maxTokens);
  if (options.expected) {
    const got = bioToSpans(tags);
    const want = options.expected;
    const same =
      got.length === want.length &&
      got.every(
        (g, k) =>
          g.type === want[k]!.type &&
          g.end - g.start === want[k]!.tokens.length &&
          want[k]!.tokens.every((t, j) => tokens[g.start + j] === t),
      );
    if (!same) {
      const gotText = got.map((g) => `${g.type}:${tokens.slice(g.start, g.end).join(' ')}`).join(' | ');
      const wantText = want.map((e) => `${e.type}:${e.tokens.join(' ')}`).join(' | ');
      return fail('entity-altered', `expected [${wantText}], generated [${gotText}]`, 0);
    }
  }
  return { ok: true, tokens, tags };
}
