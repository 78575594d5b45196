// Stream operator: one PubMed article in, one envelope per sentence out (fan-out with acks).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { flatMapStep } from '../engine/step.ts';
import { splitArticle, type SplitOptions } from './sentences.ts';

/** The fields of a PubmedArticle the splitter reads. */
export interface ArticleLike {
  pmid: string;
  title: string;
  abstract: string;
}

/** One sentence (the Sentence schema): offsets into title + " " + abstract. */
export interface SentenceRecord {
  pmid: string;
  index: number;
  start: number;
  end: number;
  text: string;
}

/** Config of {@link splitSentences}; every field has a default. */
export const SplitSentencesConfig = z.object({
  stepId: z.string().min(1).default('split-sentences'),
  maxBracketSpan: z.number().int().min(0).default(400),
  controlChars: z.enum(['error', 'space']).default('error'),
  headings: z.boolean().default(true),
  enumerations: z.enum(['separate', 'attach']).default('attach'),
  splitTitle: z.boolean().default(false),
});

/** Effective config of {@link splitSentences}. */
export type SplitSentencesConfig = z.output<typeof SplitSentencesConfig>;

/** Splits an article into sentence records (pure). */
export function articleSentences(
  article: ArticleLike,
  options: Partial<SplitOptions> = {},
): SentenceRecord[] {
  return splitArticle(article, options).map((s, index) => ({
    pmid: article.pmid,
    index,
    start: s.start,
    end: s.end,
    text: s.text,
  }));
}

/**
 * Stream operator: each article becomes its sentences, keyed `pmid:index`, each holding a share of
 * the article's ack token (the article is acked when all its sentences are). An article with no
 * text settles at once; invalid text nacks it with this step's id (it goes to the dead letters).
 */
export function splitSentences(
  config: Partial<z.input<typeof SplitSentencesConfig>> = {},
): OperatorFunction<Envelope<ArticleLike>, Envelope<SentenceRecord>> {
  const c = SplitSentencesConfig.parse(config);
  return flatMapStep<ArticleLike, SentenceRecord>(
    c.stepId,
    (a) => articleSentences(a, c),
    (s) => `${s.pmid}:${s.index}`,
    { stage: 'split' },
  );
}
