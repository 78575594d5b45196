// Re-tokenizing labeled sentences with the engine's tokenizer, so that a model is trained on the tokens
// it will see when it serves raw text. Corpora tokenize around their own annotations (BC5CDR keeps
// "5-HT" or "MK-801" whole inside mentions, and splits hyphens elsewhere); the engine's tokenizer cannot
// know where the mentions are, so a model trained on the corpus tokens meets other tokens at serving time.
//
// Every corpus token is tokenized on its own (tokens never cross whitespace, so the pieces of a token are
// the pieces of that token in any text that holds it); a B-X token gives B-X then I-X, an I-X token
// gives I-X throughout, an O token gives O (bare B/I tags, as in keyword columns, work the same way).

import { tokenize, type StyleName } from './tokenize.ts';

/** A labeled sentence: tokens and BIO tags of the same length. */
export interface LabeledTokens {
  tokens: readonly string[];
  tags: readonly string[];
}

/** The result of {@link retokenizeLabeled}: the new tokens and tags, and for each the corpus token it came from. */
export interface Retokenized {
  tokens: string[];
  tags: string[];
  /** Index of the source token of each new token. */
  source: number[];
}

/**
 * Splits each token with the tokenizer's `style` and propagates BIO tags to the pieces. With
 * `keepEntities`, only O-tagged tokens are split (entity tokens stay whole) and a token with nothing to
 * keep stays as it is instead of throwing: for generated text, whose entity words are copied gold ones.
 */
export function retokenizeLabeled(
  s: LabeledTokens,
  style: StyleName,
  options: { keepEntities?: boolean } = {},
): Retokenized {
  if (s.tokens.length !== s.tags.length)
    throw new RangeError(`retokenize: ${s.tokens.length} tokens but ${s.tags.length} tags`);
  const out: Retokenized = { tokens: [], tags: [], source: [] };
  for (let i = 0; i < s.tokens.length; i++) {
    const tok = s.tokens[i]!;
    const tag = s.tags[i]!;
    const keep = options.keepEntities === true;
    const pieces =
      keep && tag !== 'O' ? [tok] : tokenize(tok, { style, controlChars: 'space' }).map((p) => p.text);
    if (pieces.length === 0) {
      if (!keep) throw new RangeError(`retokenize: token ${i} ("${tok}") holds no characters to keep`);
      pieces.push(tok);
    }
    const inside = tag === 'O' ? 'O' : tag.length === 1 ? 'I' : `I-${tag.slice(2)}`;
    for (let k = 0; k < pieces.length; k++) {
      out.tokens.push(pieces[k]!);
      out.tags.push(k === 0 ? tag : inside);
      out.source.push(i);
    }
  }
  return out;
}
