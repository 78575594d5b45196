// The entry of the document-level NER stage: each abstract's sentences go through the sentence-level
// steps (split, tokenize, batched NER) and come back together as one NerDocument. Batching stays
// sentence-level (the NER batcher sees every sentence as before); the abstract is held only while its
// own envelope is unacked, so memory is bounded by the source's credits (src/engine/regroupStep.ts).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { regroupStep } from '../../engine/regroupStep.ts';
import type { DocumentSentence, NerDocument } from './nerDocument.ts';

/** The fields of an article the document stage reads (PubmedArticle has them). */
export interface DocumentArticle {
  pmid: string;
  title: string;
  abstract: string;
}

/** Config of {@link regroupSentences}; every field has a default. */
export const RegroupSentencesConfig = z
  .object({ stepId: z.string().min(1).default('regroup-sentences') })
  .strict();

/** The NerDocument of an article and its tagged sentences (sorted by index). */
export function documentOf(article: DocumentArticle, sentences: DocumentSentence[]): NerDocument {
  return {
    pmid: article.pmid,
    // The offsets' reference, as splitArticle builds it.
    text: `${article.title} ${article.abstract}`,
    sentences: [...sentences].sort((a, b) => a.index - b.index),
  };
}

/**
 * Runs `sentenceSteps` (article -> tagged sentences, fanning out) over each article and emits one
 * NerDocument per article once all its sentences are tagged. A sentence that fails nacks the whole
 * abstract (it goes to the dead letters with the failing step's id; nothing of it is emitted).
 */
export function regroupSentences<A extends DocumentArticle, S extends DocumentSentence>(
  sentenceSteps: OperatorFunction<Envelope<A>, Envelope<S>>,
  config: Partial<z.input<typeof RegroupSentencesConfig>> = {},
): OperatorFunction<Envelope<A>, Envelope<NerDocument>> {
  const c = RegroupSentencesConfig.parse(config);
  return regroupStep<A, S, NerDocument>(c.stepId, sentenceSteps, documentOf);
}
