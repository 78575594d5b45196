// The NER model reads words, not Token objects: this step turns tokenized sentences into the tagger's
// input (word texts plus their [start, end) offsets, kept to map entities back onto the text).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { mapStep } from '../../engine/step.ts';
import type { SentenceRecord } from '../../text/splitSentences.ts';
import type { Tokenized } from '../../text/tokenizeWords.ts';
import type { Tagged } from './tagEntities.ts';

/** A sentence ready for NER: its words and their character offsets (document or sentence based). */
export type NerSentence = SentenceRecord & { tokens: string[]; offsets: [number, number][] };

/** A sentence after NER: word tokens with offsets, tags, per-token scores and entities. */
export type TaggedSentence = Tagged<NerSentence>;

/** Config of {@link toTaggerInput}; every field has a default. */
export const ToTaggerInputConfig = z.object({ stepId: z.string().min(1).default('ner-input') }).strict();

/** Maps a tokenized sentence to the tagger's input (1:1, same key and ack token). */
export function toTaggerInput(
  config: Partial<z.input<typeof ToTaggerInputConfig>> = {},
): OperatorFunction<Envelope<Tokenized<SentenceRecord>>, Envelope<NerSentence>> {
  const c = ToTaggerInputConfig.parse(config);
  return mapStep(c.stepId, (s) => ({
    pmid: s.pmid,
    index: s.index,
    start: s.start,
    end: s.end,
    text: s.text,
    tokens: s.tokens.map((t) => t.text),
    offsets: s.tokens.map((t) => [t.start, t.end] as [number, number]),
  }));
}
