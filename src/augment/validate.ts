// Input checks shared by every augmenter: bad sentences fail loudly with the step and sentence id.
import { firstBioError } from '../text/bio.ts';
import { TopologyInputError } from '../engine/topology.ts';
import { type SentenceToAugment } from './types.ts';

/** Longest sentence an augmenter accepts by default; longer ones are almost always a missing blank line. */
export const DEFAULT_MAX_TOKENS = 5000;

// eslint-disable-next-line no-control-regex
const BAD_TOKEN = /[\s\u0000-\u001f\u007f-\u009f]/;

/** Throws {@link TopologyInputError} naming `step` and the sentence when `s` cannot be augmented. */
export function checkSentence(s: SentenceToAugment, step: string, maxTokens = DEFAULT_MAX_TOKENS): void {
  const where = `sentence ${JSON.stringify(s.id)}${s.line !== undefined ? ` (line ${s.line})` : ''}`;
  if (s.tokens.length === 0) throw new TopologyInputError(step, `${where} is empty`);
  if (s.tokens.length > maxTokens)
    throw new TopologyInputError(
      step,
      `${where} has ${s.tokens.length} tokens, more than the limit ${maxTokens}`,
    );
  if (s.tags.length !== s.tokens.length)
    throw new TopologyInputError(step, `${where} has ${s.tokens.length} tokens but ${s.tags.length} tags`);
  const kw = s.keywords ?? s.keywordTags;
  if (kw && kw.length !== s.tokens.length)
    throw new TopologyInputError(
      step,
      `${where} has ${s.tokens.length} tokens but ${kw.length} keyword tags`,
    );
  for (let i = 0; i < s.tokens.length; i++) {
    const t = s.tokens[i]!;
    if (t === '' || BAD_TOKEN.test(t))
      throw new TopologyInputError(
        step,
        `${where} token ${i} ${JSON.stringify(t)} is empty or holds whitespace/control characters`,
      );
  }
  const bad = firstBioError(s.tags);
  if (bad >= 0)
    throw new TopologyInputError(
      step,
      `${where} tag ${bad} ${JSON.stringify(s.tags[bad])} is not valid BIO (I-X must follow B-X or I-X; tags are O, B-<type>, I-<type>)`,
    );
}
