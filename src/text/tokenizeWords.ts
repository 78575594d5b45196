// Stream operator: adds word tokens with character offsets to each sentence.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { mapStep } from '../engine/step.ts';
import { CORPUS_STYLES, tokenize, type Token } from './tokenize.ts';

/** Config of {@link tokenizeWords}; every field has a default. */
export const TokenizeWordsConfig = z.object({
  stepId: z.string().min(1).default('tokenize-words'),
  /** A tokenizer style or the corpus whose tokenization to reproduce (the NER model's training corpus). */
  style: z
    .enum(['split', 'runs', 'ptb', ...(Object.keys(CORPUS_STYLES) as Array<keyof typeof CORPUS_STYLES>)])
    .default('ptb'),
  controlChars: z.enum(['error', 'space']).default('error'),
  /** Token offsets relative to the sentence (`sentence`) or shifted by its `start` (`document`). */
  offsets: z.enum(['sentence', 'document']).default('sentence'),
});

/** Effective config of {@link tokenizeWords}. */
export type TokenizeWordsConfig = z.output<typeof TokenizeWordsConfig>;

/** Any value with a text (and, for document offsets, its start in the document). */
export interface TextLike {
  text: string;
  start?: number;
}

/** A value with its tokens attached. */
export type Tokenized<T> = T & { tokens: Token[] };

/**
 * Stream operator: tokenizes `value.text` and attaches `tokens` (1:1, same key and ack token).
 * Invalid text nacks the item with this step's id.
 */
export function tokenizeWords<T extends TextLike>(
  config: Partial<z.input<typeof TokenizeWordsConfig>> = {},
): OperatorFunction<Envelope<T>, Envelope<Tokenized<T>>> {
  const c = TokenizeWordsConfig.parse(config);
  return mapStep<T, Tokenized<T>>(
    c.stepId,
    (v) => {
      let tokens = tokenize(v.text, { style: c.style, controlChars: c.controlChars });
      if (c.offsets === 'document') {
        const off = v.start ?? 0;
        tokens = tokens.map((t) => ({ text: t.text, start: t.start + off, end: t.end + off }));
      }
      return { ...v, tokens };
    },
    { stage: 'tokenize' },
  );
}
