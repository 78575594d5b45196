// The first step of the topologies that read abstracts: a record that cannot be split into sentences
// (no PMID, non-string fields, no text) goes to the dead letters here, named, instead of failing later.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { mapStep } from '../engine/step.ts';
import { TopologyInputError } from '../engine/topology.ts';
import type { ArticleLike } from './splitSentences.ts';

/** Config of {@link validateArticle}; every field has a default. */
export const ValidateArticleConfig = z
  .object({
    stepId: z.string().min(1).default('validate-article'),
    /** Dead-letter articles with an empty abstract (title-only records). */
    requireAbstract: z.boolean().default(true),
  })
  .strict();

/** Checks an article: a PMID, string title and abstract, some text (and, if required, an abstract). */
export function checkArticle<A extends ArticleLike>(
  a: A,
  requireAbstract: boolean,
  step = 'validate-article',
): A {
  if (typeof a?.pmid !== 'string' || a.pmid.trim() === '')
    throw new TopologyInputError(step, 'article without a PMID');
  if (typeof a.title !== 'string' || typeof a.abstract !== 'string')
    throw new TopologyInputError(step, `PMID ${a.pmid}: title and abstract must be strings`);
  if (requireAbstract && a.abstract.trim() === '')
    throw new TopologyInputError(step, `PMID ${a.pmid}: empty abstract`);
  if (a.title.trim() === '' && a.abstract.trim() === '')
    throw new TopologyInputError(step, `PMID ${a.pmid}: no text`);
  return a;
}

/** Validates each article (1:1); an invalid one is nacked with this step's id and goes to the dead letters. */
export function validateArticle<A extends ArticleLike>(
  config: Partial<z.input<typeof ValidateArticleConfig>> = {},
): OperatorFunction<Envelope<A>, Envelope<A>> {
  const c = ValidateArticleConfig.parse(config);
  return mapStep<A, A>(c.stepId, (a) => checkArticle(a, c.requireAbstract, c.stepId));
}
