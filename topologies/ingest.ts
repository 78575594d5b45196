// ingest: the whole design. Abstracts -> sentences -> NER (silver labels) -> keywords -> relations
// among entities and keywords, then four outputs per sentence: the NER prediction, its relation
// triples, BioAug augmentations of the silver-labeled sentence, and generator training pairs
// (corruption + knowledge from the relations, linearized target).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Observable, OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { CorruptConfig } from '../src/augment/bioaug/corrupt.ts';
import type { Triple } from '../src/augment/bioaug/knowledge.ts';
import { makeTrainingPair } from '../src/augment/bioaug/trainingPairs.ts';
import type { LabeledSentence } from '../src/augment/types.ts';
import type { Envelope } from '../src/engine/envelope.ts';
import { createRng } from '../src/engine/rng.ts';
import type { SinkMap, SourceStreams } from '../src/engine/runner.ts';
import { flatMapStep, mapStep } from '../src/engine/step.ts';
import type {
  AugmentedSentence,
  NerPrediction,
  PubmedArticle,
  RelationTriple,
  TrainingPair,
} from '../src/io/avro/types.generated.ts';
import { extractKeywords, type Keyword } from '../src/models/keywords/extractKeywords.ts';
import {
  classifyRelations,
  type RelationTriple as Classified,
} from '../src/models/relations/classifyRelations.ts';
import type { PhrasePair } from '../src/models/relations/relationClassifier.ts';
import { BioaugConfig, bioaugment } from './lib/bioaug.ts';
import { branches } from './lib/branch.ts';
import { backend, batching, defaultModel, ModelStepConfig } from './lib/config.ts';
import {
  articleStep,
  modelIdOf,
  requireSink,
  requireStream,
  taggedSentences,
  toPrediction,
  type TaggedSentence,
} from './lib/steps.ts';

/** Config of the ingest topology. */
export const IngestConfig = z
  .object({
    ner: ModelStepConfig.prefault({}),
    keywords: ModelStepConfig.prefault({}),
    relations: ModelStepConfig.prefault({}),
    tokenizerStyle: z.string().default('split'),
    bridgeHyphens: z.boolean().default(true),
    requireAbstract: z.boolean().default(true),
    /** Most entity-keyword (and entity-entity) pairs classified per sentence. */
    maxPairsPerSentence: z.number().int().min(1).max(1000).default(24),
    /** Relations below this probability (and NA) are not emitted. */
    minRelationProbability: z.number().min(0).max(1).default(0.5),
    /** Sentences without any entity produce no augmentations or pairs (nothing to keep). */
    augmentOnlyWithEntities: z.boolean().default(true),
    // Entity-constrained decoding by default: ~100% of generations valid, same F1 effect as free decoding
    // in the augmentation study (docs/results/README.md); set constrainEntities: false for BioAug as published.
    bioaug: BioaugConfig.extend({
      n: z.number().int().min(1).max(100).default(2),
      constrainEntities: z.boolean().default(true),
    }).prefault({}),
    /** Training pairs per sentence. */
    pairs: z.number().int().min(0).max(100).default(1),
    maxTriples: z.number().int().min(0).default(5),
    corrupt: CorruptConfig.partial().default({}),
  })
  .strict();
export type IngestConfig = z.output<typeof IngestConfig>;

/** Names of the streams and sinks this topology uses. */
export const io = {
  sources: ['abstracts'],
  sinks: ['predictions', 'relations', 'augmented', 'pairs'],
} as const;

/** A tagged sentence with keywords and the relations among its phrases. */
type Analyzed = TaggedSentence & { keywords: Keyword[]; pairs: PhrasePair[]; relations: Classified[] };

interface Phrase {
  start: number;
  end: number;
  type: string;
  kind: 'entity' | 'keyword';
}

function phrasesOf(s: TaggedSentence & { keywords: Keyword[] }): Phrase[] {
  return [
    ...s.entities.map((e) => ({
      start: e.tokenStart,
      end: e.tokenEnd,
      type: e.type,
      kind: 'entity' as const,
    })),
    ...s.keywords.map((k) => ({
      start: k.tokenStart,
      end: k.tokenEnd,
      type: 'keyword',
      kind: 'keyword' as const,
    })),
  ];
}

/** Entity-keyword pairs first (BioAug's knowledge), then entity-entity, capped. */
function pairsOf(s: TaggedSentence & { keywords: Keyword[] }, cap: number): PhrasePair[] {
  const ents = s.entities.map((e) => [e.tokenStart, e.tokenEnd] as [number, number]);
  const kws = s.keywords.map((k) => [k.tokenStart, k.tokenEnd] as [number, number]);
  const out: PhrasePair[] = [];
  for (const e of ents) for (const k of kws) out.push({ head: e, tail: k });
  for (let i = 0; i < ents.length; i++)
    for (let j = 0; j < ents.length; j++) if (i !== j) out.push({ head: ents[i]!, tail: ents[j]! });
  return out.slice(0, cap);
}

/** The relation bundle's verbalization map (model.json `verbalize`), empty when it has none. */
function verbalizationOf(dir: string): Record<string, string> {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return {};
  try {
    const mj = JSON.parse(readFileSync(file, 'utf8')) as { verbalize?: Record<string, string> };
    return mj.verbalize ?? {};
  } catch {
    // A broken model.json is reported by the relation step when it loads the bundle.
    return {};
  }
}

function silverSentence(s: Analyzed): LabeledSentence {
  const keywords = new Array<string>(s.tokens.length).fill('O');
  for (const k of s.keywords)
    for (let i = k.tokenStart; i < k.tokenEnd; i++) keywords[i] = i === k.tokenStart ? 'B' : 'I';
  return { id: `${s.pmid}:${s.index}`, tokens: s.tokens, tags: s.tags, keywords };
}

function argument(s: Analyzed, span: [number, number], phrases: Phrase[]): RelationTriple['head'] {
  const p = phrases.find((x) => x.start === span[0] && x.end === span[1]);
  const start = s.offsets[span[0]]![0];
  const end = s.offsets[span[1] - 1]![1];
  return { text: s.text.slice(start - s.start, end - s.start), type: p?.type ?? 'phrase', start, end };
}

/** Builds the topology. */
export function build(
  sources: SourceStreams,
  sinks: SinkMap,
  config: Partial<z.input<typeof IngestConfig>> = {},
): Array<Observable<unknown>> {
  const c = IngestConfig.parse(config);
  const abstracts = requireStream<PubmedArticle>(sources, 'abstracts', 'ingest');
  const out = {
    predictions: requireSink<NerPrediction>(sinks, 'predictions', 'ingest'),
    relations: requireSink<RelationTriple>(sinks, 'relations', 'ingest'),
    augmented: requireSink<AugmentedSentence>(sinks, 'augmented', 'ingest'),
    pairs: requireSink<TrainingPair>(sinks, 'pairs', 'ingest'),
  };
  const relationModel = c.relations.model ?? defaultModel('relations');
  const relationModelId = modelIdOf(relationModel);
  const verbalize = verbalizationOf(relationModel);

  const analyzed: Observable<Envelope<Analyzed>> = abstracts.pipe(
    articleStep(c.requireAbstract),
    taggedSentences({ ner: c.ner, tokenizerStyle: c.tokenizerStyle, bridgeHyphens: c.bridgeHyphens }),
    extractKeywords({
      stepId: 'keywords',
      model: c.keywords.model ?? defaultModel('keywords'),
      taggerOptions: { stepId: 'keywords', backend: backend(c.keywords) },
      // BioAug's keywords are domain phrases that are not entities.
      excludeSpans: (v) => (v as TaggedSentence).entities.map((e) => [e.tokenStart, e.tokenEnd]),
      ...batching(c.keywords),
    }) as OperatorFunction<Envelope<TaggedSentence>, Envelope<TaggedSentence & { keywords: Keyword[] }>>,
    mapStep('relation-pairs', (s) => ({ ...s, pairs: pairsOf(s, c.maxPairsPerSentence) })),
    classifyRelations({
      stepId: 'relations',
      model: relationModel,
      options: {
        stepId: 'relations',
        maxPairsPerSentence: c.maxPairsPerSentence,
        backend: backend(c.relations),
      },
      ...batching(c.relations),
    }) as OperatorFunction<
      Envelope<TaggedSentence & { keywords: Keyword[]; pairs: PhrasePair[] }>,
      Envelope<Analyzed>
    >,
  );
  const b = branches(analyzed, ['predictions', 'relations', 'augmented', 'pairs'] as const);

  const predictions = b.predictions.pipe(
    mapStep('to-prediction', (s) => toPrediction(s, () => undefined)),
    out.predictions.write(),
  );

  const keep = (r: Classified): boolean =>
    r.label !== null && r.label !== 'NA' && r.probability >= c.minRelationProbability;
  const relations = b.relations.pipe(
    flatMapStep<Analyzed, RelationTriple>(
      'to-relations',
      (s) => {
        const phrases = phrasesOf(s);
        return s.relations.filter(keep).map((r) => ({
          sourceId: `${s.pmid}:${s.index}`,
          head: argument(s, r.head, phrases),
          relation: r.label!,
          tail: argument(s, r.tail, phrases),
          probability: r.probability,
          modelId: relationModelId,
          createdAt: Date.now(),
        }));
      },
      (_t, i, p) => `${p.key}:rel:${i}`,
    ),
    out.relations.write(),
  );

  const withEntities = (s: Analyzed): boolean => !c.augmentOnlyWithEntities || s.entities.length > 0;
  const augmented = b.augmented.pipe(
    flatMapStep<Analyzed, LabeledSentence>(
      'silver-sentence',
      (s) => (withEntities(s) ? [silverSentence(s)] : []),
      (v) => v.id,
    ),
    bioaugment(c.bioaug),
    out.augmented.write(),
  );

  const root = createRng(c.bioaug.seed);
  const pairs = b.pairs.pipe(
    flatMapStep<Analyzed, TrainingPair>(
      'training-pairs',
      (s) => {
        if (!withEntities(s) || c.pairs === 0) return [];
        const labeled = silverSentence(s);
        const triples = s.relations.filter(keep);
        const knowledge = (
          _s: unknown,
          kept: readonly { start: number; end: number; text: string }[],
        ): Triple[] => {
          const byRange = new Map(kept.map((k) => [`${k.start}-${k.end}`, k.text]));
          return triples.flatMap((r) => {
            const head = byRange.get(`${r.head[0]}-${r.head[1]}`);
            const tail = byRange.get(`${r.tail[0]}-${r.tail[1]}`);
            if (head === undefined || tail === undefined) return [];
            const relation = verbalize[r.label!] ?? r.label!.replace(/_/g, ' ');
            return [{ head, relation, tail, probability: r.probability }];
          });
        };
        const rng = root.fork(labeled.id);
        return Array.from({ length: c.pairs }, (_, n) => {
          const p = makeTrainingPair(labeled, n, rng.fork(n), {
            corrupt: c.corrupt,
            knowledge,
            maxTriples: c.maxTriples,
          });
          return { sourceId: p.source_id, input: p.input, target: p.target };
        });
      },
      (_p, i, parent) => `${parent.key}:pair:${i}`,
    ),
    out.pairs.write(),
  );

  return [predictions, relations, augmented, pairs];
}
