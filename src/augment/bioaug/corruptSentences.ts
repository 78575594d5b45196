// Stream operator of BioAug's first stage: n corrupted copies per labeled sentence (no knowledge: that
// is for fine-tuning pairs only), ready for the generator (src/models/seq2seq/generateFromCorruptions.ts)
// or written as they are (`bioaug-stream augment --method corrupt`). The one corruption operator.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { hash32 } from '../../engine/rng.ts';
import { bioToSpans } from '../../text/bio.ts';
import { fanOutCopies } from '../operator.ts';
import type { SentenceToAugment } from '../types.ts';
import { CorruptConfig, corruptSentence } from './corrupt.ts';
import type { ExpectedEntity } from './delinearize.ts';
import type { KeywordTagger } from './keywords.ts';
import { LABEL_TOKEN } from './labels.ts';

/** A corrupted copy of a sentence, with the entities the generation must keep. */
export interface CorruptedSentence {
  /** `<sourceId>:bioaug:<n>`. */
  id: string;
  sourceId: string;
  /** The sentence this copy was made from. */
  source: SentenceToAugment;
  n: number;
  /** The generator input: linearized entities, kept keywords and merged `<mask>`s. */
  input: string;
  /** Gold entities in order, to validate the de-linearized generation against. */
  expected: ExpectedEntity[];
  /** CoNLL view of the corrupted sentence: words and `<mask>`s, entity words with their tags. */
  tokens: string[];
  tags: string[];
  /** Seed of the generation from this copy: (seed, source id, n) hashed to 31 bits, so replays match. */
  seed: number;
}

/** The CoNLL view of a corruption sketch: label tokens become tags, `<mask>` and keywords get O. */
export function sketchToConll(sketch: readonly string[]): { tokens: string[]; tags: string[] } {
  const tokens: string[] = [];
  const tags: string[] = [];
  for (let i = 0; i < sketch.length; i++) {
    const m = LABEL_TOKEN.exec(sketch[i]!);
    if (m) {
      // The sketch was made by linearizeTokens: label, word, label; the type keeps corpus case below.
      tokens.push(sketch[i + 1]!);
      tags.push(m[1] === 'b' ? 'B' : 'I');
      i += 2;
    } else {
      tokens.push(sketch[i]!);
      tags.push('O');
    }
  }
  return { tokens, tags };
}

/** Config of the {@link corruptSentences} operator. */
export const CorruptSentencesConfig = z.object({
  stepId: z.string().default('corrupt'),
  n: z.number().int().min(1).max(1000).default(1),
  seed: z.number().int().default(1),
  corrupt: CorruptConfig.partial().default({}),
});

/** Stream operator: `n` BioAug-corrupted copies per sentence, keys `source-id:bioaug:n`. */
export function corruptSentences(
  config: Partial<z.input<typeof CorruptSentencesConfig>> & { tagger?: KeywordTagger } = {},
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<CorruptedSentence>> {
  const c = CorruptSentencesConfig.parse(config);
  return fanOutCopies<CorruptedSentence>(c.stepId, c.n, c.seed, (s, n, rng) => {
    const r = corruptSentence(s, rng, c.corrupt, config.tagger);
    const expected = bioToSpans(s.tags).map((sp) => ({
      type: sp.type,
      tokens: s.tokens.slice(sp.start, sp.end),
    }));
    const view = sketchToConll(r.sketch);
    // Label tokens are lowercased; put the corpus spelling of each entity's type back, in order.
    let e = -1;
    view.tags = view.tags.map((t) => {
      if (t === 'O') return 'O';
      if (t === 'B') e++;
      return `${t}-${expected[e]!.type}`;
    });
    return {
      id: `${s.id}:bioaug:${n}`,
      sourceId: s.id,
      source: s,
      n,
      input: r.sketch.join(' '),
      expected,
      tokens: view.tokens,
      tags: view.tags,
      seed: hash32(`${c.seed}:${s.id}:${n}`) & 0x7fffffff,
    };
  });
}
