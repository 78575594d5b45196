// The relations output: each classified pair above a probability, as a RelationTriple record whose
// arguments carry their text, type and document offsets.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { flatMapStep } from '../../engine/step.ts';
import type { RelationTriple } from '../../io/avro/types.generated.ts';
import type { Keyword } from '../keywords/extractKeywords.ts';
import type { TaggedSentence } from '../ner/toTaggerInput.ts';
import type { ClassifiedPair } from './classifyRelations.ts';

/** A tagged sentence with keywords and the relations classified among its phrases. */
export type RelatedSentence = TaggedSentence & { keywords: Keyword[]; relations: ClassifiedPair[] };

/** Config of {@link toRelationTriples}. */
export const ToRelationTriplesConfig = z
  .object({
    stepId: z.string().min(1).default('to-relations'),
    /** The model id written into each record (the relation bundle's folder name). */
    modelId: z.string().min(1),
    /** Relations below this probability (and NA) are not emitted. */
    minProbability: z.number().min(0).max(1).default(0.5),
  })
  .strict();

/** True for a relation worth emitting: a label other than NA at or above `minProbability`. */
export function isRelation(r: ClassifiedPair, minProbability: number): boolean {
  return r.label !== null && r.label !== 'NA' && r.probability >= minProbability;
}

interface Phrase {
  start: number;
  end: number;
  type: string;
}

function phrasesOf(s: RelatedSentence): Phrase[] {
  return [
    ...s.entities.map((e) => ({ start: e.tokenStart, end: e.tokenEnd, type: e.type })),
    ...s.keywords.map((k) => ({ start: k.tokenStart, end: k.tokenEnd, type: 'keyword' })),
  ];
}

function argument(s: RelatedSentence, span: [number, number], phrases: Phrase[]): RelationTriple['head'] {
  const p = phrases.find((x) => x.start === span[0] && x.end === span[1]);
  const start = s.offsets[span[0]]![0];
  const end = s.offsets[span[1] - 1]![1];
  return {
    text: s.text.slice(start - s.start, end - s.start),
    type: p?.type ?? 'phrase',
    start,
    end,
    conceptId: null,
  };
}

/** The RelationTriple records of a sentence (document offsets), in classification order. */
export function relationTriplesOf(
  s: RelatedSentence,
  modelId: string,
  minProbability: number,
): RelationTriple[] {
  const phrases = phrasesOf(s);
  return s.relations
    .filter((r) => isRelation(r, minProbability))
    .map((r) => ({
      sourceId: `${s.pmid}:${s.index}`,
      head: argument(s, r.head, phrases),
      relation: r.label!,
      tail: argument(s, r.tail, phrases),
      probability: r.probability,
      modelId,
      evidence: [],
      createdAt: Date.now(),
    }));
}

/** Fans each sentence out into its relation records, keyed `<sentence key>:rel:<i>` (none: acked). */
export function toRelationTriples(
  config: z.input<typeof ToRelationTriplesConfig>,
): OperatorFunction<Envelope<RelatedSentence>, Envelope<RelationTriple>> {
  const c = ToRelationTriplesConfig.parse(config);
  return flatMapStep<RelatedSentence, RelationTriple>(
    c.stepId,
    (s) => relationTriplesOf(s, c.modelId, c.minProbability),
    (_t, i, p) => `${p.key}:rel:${i}`,
  );
}
