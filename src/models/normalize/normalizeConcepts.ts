// Stream step of the document-level NER stage: every entity of an abstract gets a concept id (MeSH, or
// "-1" when unsure) and a score, from the normalization bundle. One abstract per item, so abbreviations
// and repeated names are resolved with the whole abstract in view; nothing is kept between abstracts.
import { defer, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { asStep } from '../../engine/graph.ts';
import { mapStep } from '../../engine/step.ts';
import { ModelError } from '../errors.ts';
import { ConceptNormalizerConfig, loadNormalizer, type ConceptNormalizer } from './conceptNormalizer.ts';

/** The fields of an abstract the step reads: its text and sentences with document-offset entities. */
export interface DocumentWithEntities {
  pmid: string;
  /** title + " " + abstract: the entities' offsets index into it. */
  text: string;
  sentences: Array<{ entities: Array<{ start: number; end: number; type: string }> }>;
}

/** What the step adds to each entity. */
export interface ConceptFields {
  conceptId: string | null;
  conceptScore: number;
}

/** The document type after the step: the same document, entities with concept fields. */
export type WithConcepts<D extends DocumentWithEntities> = Omit<D, 'sentences'> & {
  sentences: Array<
    Omit<D['sentences'][number], 'entities'> & {
      entities: Array<D['sentences'][number]['entities'][number] & ConceptFields>;
    }
  >;
};

/** Config of {@link normalizeConcepts}; every field has a default but the bundle (or an injected normalizer). */
export const NormalizeConceptsConfig = z
  .object({
    stepId: z
      .string()
      .min(1)
      .default('normalize-concepts')
      .describe('step id in logs, metrics and dead letters'),
    /** Off: entities pass with conceptId null and score 0 (the schema defaults). */
    enabled: z
      .boolean()
      .default(true)
      .describe('link entities to MeSH concept ids; off: conceptId null, score 0'),
    /** Bundle folder (models/normalize-cdr). */
    model: z.string().optional().describe('normalization bundle folder; unset: models/normalize-cdr'),
    /** Entity types to normalize; others get conceptId null. Default: the types the dictionary knows. */
    types: z
      .array(z.string())
      .optional()
      .describe(
        'entity types to normalize (others get conceptId null); unset: the types the dictionary knows',
      ),
    options: ConceptNormalizerConfig.prefault({}),
  })
  .strict();
export type NormalizeConceptsConfig = z.output<typeof NormalizeConceptsConfig>;

/**
 * Adds conceptId and conceptScore to every entity of each abstract (1:1, same key and ack). A broken
 * bundle errors the stream (every abstract would fail alike); a bad document nacks that abstract only.
 */
export function normalizeConcepts<D extends DocumentWithEntities>(
  config: Partial<z.input<typeof NormalizeConceptsConfig>> & { normalizer?: ConceptNormalizer },
): OperatorFunction<Envelope<D>, Envelope<WithConcepts<D>>> {
  const { normalizer: injected, ...rest } = config;
  const c = NormalizeConceptsConfig.parse(rest);
  if (c.enabled && !injected && !c.model)
    throw new ModelError(
      'config',
      `${c.stepId}: needs "model" (a normalization bundle folder) or an injected normalizer`,
    );
  return asStep(c.stepId, (source) =>
    defer(() => {
      const norm = c.enabled ? (injected ?? loadNormalizer(c.model!, c.options)) : null;
      const types = new Set(c.types ?? norm?.dictionary.types ?? []);
      return source.pipe(
        mapStep<D, WithConcepts<D>>(c.stepId, (d) => {
          if (typeof d?.text !== 'string' || !Array.isArray(d.sentences))
            throw new ModelError(
              'input',
              `${c.stepId}: abstract ${String(d?.pmid)}: expected text and sentences`,
            );
          const all = d.sentences.flatMap((s) => s.entities);
          const wanted = all.filter((e) => types.has(e.type));
          const res = norm
            ? norm.normalize(
                d.text,
                wanted.map((e) => ({
                  start: e.start,
                  end: e.end,
                  type: e.type,
                  text: d.text.slice(e.start, e.end),
                })),
              )
            : [];
          const byEntity = new Map(wanted.map((e, i) => [e, res[i]!]));
          return {
            ...d,
            sentences: d.sentences.map((s) => ({
              ...s,
              entities: s.entities.map((e) => {
                const r = byEntity.get(e);
                return { ...e, conceptId: r ? r.conceptId : null, conceptScore: r ? r.conceptScore : 0 };
              }),
            })),
          } as WithConcepts<D>;
        }),
      );
    }),
  );
}
