// BioAug corruption (steps 1-4): keep gold entities and a share e of the keywords, mask the rest,
// merge consecutive masks, and linearize the kept entities with label tokens.
//
// The share: e ~ N(mu, 1/k), k the number of keywords. We read 1/k as the VARIANCE (standard
// N(mean, variance) notation, as the paper writes it), so the standard deviation is 1/sqrt(k):
// sentences with few keywords get a widely varying share, keyword-rich ones stay near mu. The
// draw is clipped to [0, 1]. The released BioAug code differs (fixed std 0.1, mean 0.7,
// out-of-range draws redrawn); `sd: 'inverse-k-std' | number` and `outOfRange: 'resample'`
// reproduce those readings. The number of kept keywords is round(e * k), chosen uniformly.
import { z } from 'zod';
import type { Rng } from '../../engine/rng.ts';
import { bioToSpans } from '../../text/bio.ts';
import { TopologyInputError } from '../../engine/topology.ts';
import { type SentenceToAugment } from '../types.ts';
import { checkSentence } from '../validate.ts';
import { keywordColumnPhrases, selectKeywords, type KeywordTagger, type Phrase } from './keywords.ts';
import type { KeptPhrase } from './knowledge.ts';
import { MASK } from './labels.ts';
import { linearizeTokens } from './linearize.ts';

/** Corruption settings (merged over defaults). */
export const CorruptConfig = z.object({
  /** Mean of the keep share e. */
  mu: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('mean share e of the keywords kept unmasked, e ~ N(mu, 1/k) for k keywords'),
  /** Spread of e: 1/k as variance (default), 1/k as std, or a fixed std. */
  sd: z
    .union([z.enum(['inverse-k-variance', 'inverse-k-std']), z.number().nonnegative()])
    .default('inverse-k-variance')
    .describe('spread of e: inverse-k-variance (variance 1/k), inverse-k-std (std 1/k) or a fixed std'),
  /** What to do with a draw outside [0, 1]: clip it (default) or draw again (the BioAug code). */
  outOfRange: z
    .enum(['clip', 'resample'])
    .default('clip')
    .describe('a draw of e outside [0, 1]: clip it, or resample (as the BioAug code)'),
});
/** Parsed corruption settings. */
export type CorruptConfig = z.output<typeof CorruptConfig>;

/** The result of corrupting one sentence. */
export interface Corruption {
  /** Corrupted, linearized tokens: label-wrapped entities, kept keywords, merged `<mask>`s. */
  sketch: string[];
  /** Gold entities and kept keywords, in sentence order (knowledge is drawn among these). */
  kept: KeptPhrase[];
  /** Keyword phrases found (after removing those overlapping gold entities). */
  keywords: Phrase[];
  /** The share e drawn (NaN when there were no keywords). */
  share: number;
}

/** Draws the keep share e for k keywords. */
export function drawShare(k: number, cfg: CorruptConfig, rng: Rng): number {
  const sd = cfg.sd === 'inverse-k-variance' ? Math.sqrt(1 / k) : cfg.sd === 'inverse-k-std' ? 1 / k : cfg.sd;
  if (cfg.outOfRange === 'resample') {
    for (let tries = 0; tries < 1000; tries++) {
      const e = rng.normal(cfg.mu, sd);
      if (e >= 0 && e <= 1) return e;
    }
  }
  return Math.min(1, Math.max(0, rng.normal(cfg.mu, sd)));
}

/** Keyword candidates of a sentence: from the injected tagger, else from its keyword column. */
export function keywordCandidates(s: SentenceToAugment, tagger?: KeywordTagger): Phrase[] {
  if (tagger) return tagger(s.tokens);
  const column = s.keywords ?? s.keywordTags;
  if (column) return keywordColumnPhrases(column);
  throw new TopologyInputError(
    'corrupt',
    `sentence ${JSON.stringify(s.id)} has no keyword column and no keyword tagger was given (valid keyword sources: column, tagger)`,
  );
}

/** Corrupts one sentence (BioAug steps 1, 3 and 4). */
export function corruptSentence(
  s: SentenceToAugment,
  rng: Rng,
  config: Partial<z.input<typeof CorruptConfig>> = {},
  tagger?: KeywordTagger,
): Corruption {
  checkSentence(s, 'corrupt');
  const cfg = CorruptConfig.parse(config);
  const keywords = selectKeywords(s.tags, keywordCandidates(s, tagger));
  const k = keywords.length;
  let share = NaN;
  const keep = new Array<boolean>(k).fill(false);
  if (k > 0) {
    share = drawShare(k, cfg, rng);
    const m = Math.round(share * k);
    // Partial Fisher-Yates: the first m of a random permutation are kept.
    const order = keywords.map((_, i) => i);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(k - i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
      keep[order[i]!] = true;
    }
  }
  const entities = bioToSpans(s.tags);
  const kept: KeptPhrase[] = [];
  const sketch: string[] = [];
  const mask = (): void => {
    if (sketch[sketch.length - 1] !== MASK) sketch.push(MASK);
  };
  let e = 0;
  let w = 0;
  for (let i = 0; i < s.tokens.length;) {
    const ent = entities[e];
    const kw = keywords[w];
    if (ent && ent.start === i) {
      sketch.push(
        ...linearizeTokens(s.tokens.slice(ent.start, ent.end), s.tags.slice(ent.start, ent.end), 'corrupt'),
      );
      kept.push({
        start: ent.start,
        end: ent.end,
        text: s.tokens.slice(ent.start, ent.end).join(' '),
        kind: 'entity',
      });
      i = ent.end;
      e++;
    } else if (kw && kw.start === i) {
      if (keep[w]) {
        const words = s.tokens.slice(kw.start, kw.end);
        sketch.push(
          ...linearizeTokens(
            words,
            words.map(() => 'O'),
            'corrupt',
          ),
        );
        kept.push({ start: kw.start, end: kw.end, text: words.join(' '), kind: 'keyword' });
      } else mask();
      i = kw.end;
      w++;
    } else {
      mask();
      i++;
    }
  }
  return { sketch, kept, keywords, share };
}
