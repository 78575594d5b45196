// Silver-labeled sentences: what the NER, keyword and relation models made of raw text, as the labeled
// sentences BioAug reads: the augmentations and the generator's training pairs of the ingest topology.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { createRng } from '../../engine/rng.ts';
import { flatMapStep } from '../../engine/step.ts';
import type { TrainingPair } from '../../io/avro/types.generated.ts';
import type { SentenceToAugment } from '../types.ts';
import { CorruptConfig } from './corrupt.ts';
import type { Triple } from './knowledge.ts';
import { makeTrainingPair } from './trainingPairs.ts';

/** A token span [tokenStart, tokenEnd). */
interface TokenSpan {
  tokenStart: number;
  tokenEnd: number;
}

/** A model-annotated sentence: NER tags and entities, keyword spans, classified relations. */
export interface AnnotatedSentence {
  pmid: string;
  index: number;
  tokens: string[];
  tags: string[];
  entities: readonly TokenSpan[];
  keywords: readonly TokenSpan[];
  relations: readonly {
    head: [number, number];
    tail: [number, number];
    label: string | null;
    probability: number;
  }[];
}

/** The labeled sentence of an annotated one: id `pmid:index`, NER tags, keyword BIO column. */
export function silverSentenceOf(s: AnnotatedSentence): SentenceToAugment {
  const keywords = new Array<string>(s.tokens.length).fill('O');
  for (const k of s.keywords)
    for (let i = k.tokenStart; i < k.tokenEnd; i++) keywords[i] = i === k.tokenStart ? 'B' : 'I';
  return { id: `${s.pmid}:${s.index}`, tokens: s.tokens, tags: s.tags, keywords };
}

/** Config of {@link toSilverSentences}; every field has a default. */
export const SilverSentencesConfig = z
  .object({
    stepId: z.string().min(1).default('silver-sentence'),
    /** Sentences without any entity are dropped (acked): corruption has nothing to keep. */
    onlyWithEntities: z.boolean().default(true),
  })
  .strict();

/** Annotated sentences as labeled sentences, keyed by their id (dropped ones are acked). */
export function toSilverSentences(
  config: Partial<z.input<typeof SilverSentencesConfig>> = {},
): OperatorFunction<Envelope<AnnotatedSentence>, Envelope<SentenceToAugment>> {
  const c = SilverSentencesConfig.parse(config);
  return flatMapStep<AnnotatedSentence, SentenceToAugment>(
    c.stepId,
    (s) => (!c.onlyWithEntities || s.entities.length > 0 ? [silverSentenceOf(s)] : []),
    (v) => v.id,
  );
}

/** Config of {@link silverTrainingPairs}; every field has a default. */
export const SilverTrainingPairsConfig = z
  .object({
    stepId: z.string().min(1).default('training-pairs'),
    /** Pairs per sentence (0: none). */
    n: z.number().int().min(0).max(100).default(1),
    seed: z.number().int().default(1),
    maxTriples: z.number().int().min(0).default(5),
    corrupt: CorruptConfig.partial().default({}),
    /** Relations below this probability (and NA) are not used as knowledge. */
    minRelationProbability: z.number().min(0).max(1).default(0.5),
    /** Verbalization of relation labels (the relation bundle's model.json `verbalize`); else `_` -> space. */
    verbalize: z.record(z.string(), z.string()).default({}),
    /** Sentences without any entity produce no pairs. */
    onlyWithEntities: z.boolean().default(true),
  })
  .strict();

/**
 * Generator training pairs of annotated sentences: corruption of the silver sentence plus knowledge
 * from the classified relations among its kept phrases; keys `pmid:index:pair:n`, randomness forked
 * from (seed, sentence id, n).
 */
export function silverTrainingPairs(
  config: Partial<z.input<typeof SilverTrainingPairsConfig>> = {},
): OperatorFunction<Envelope<AnnotatedSentence>, Envelope<TrainingPair>> {
  const c = SilverTrainingPairsConfig.parse(config);
  const root = createRng(c.seed);
  return flatMapStep<AnnotatedSentence, TrainingPair>(
    c.stepId,
    (s) => {
      if ((c.onlyWithEntities && s.entities.length === 0) || c.n === 0) return [];
      const labeled = silverSentenceOf(s);
      // The same test as the relations output (src/models/relations/toRelationTriples.ts isRelation).
      const triples = s.relations.filter(
        (r) => r.label !== null && r.label !== 'NA' && r.probability >= c.minRelationProbability,
      );
      const knowledge = (
        _s: unknown,
        kept: readonly { start: number; end: number; text: string }[],
      ): Triple[] => {
        const byRange = new Map(kept.map((k) => [`${k.start}-${k.end}`, k.text]));
        return triples.flatMap((r) => {
          const head = byRange.get(`${r.head[0]}-${r.head[1]}`);
          const tail = byRange.get(`${r.tail[0]}-${r.tail[1]}`);
          if (head === undefined || tail === undefined) return [];
          const relation = c.verbalize[r.label!] ?? r.label!.replace(/_/g, ' ');
          return [{ head, relation, tail, probability: r.probability }];
        });
      };
      const rng = root.fork(labeled.id);
      return Array.from({ length: c.n }, (_, n) => {
        const p = makeTrainingPair(labeled, n, rng.fork(n), {
          corrupt: c.corrupt,
          knowledge,
          maxTriples: c.maxTriples,
        });
        return { sourceId: p.source_id, input: p.input, target: p.target };
      });
    },
    (_p, i, parent) => `${parent.key}:pair:${i}`,
  );
}
