// `eval relations`: chemical-induced-disease relations on PubTator abstracts, scored against their CID
// lines. End to end, the ner-relations topology runs (NER, document-level rules, MeSH normalization,
// CID relations); with --gold-entities only the relation step runs, on the gold mentions and ids.
// Both go through the engine's stream operators (dynamic batching, acks), over in-memory sources.
import { tap, type Observable } from 'rxjs';
import type { Sink, Source } from '../../engine/types.ts';
import { KafkaDeadLetters } from '../../io/kafka/kafkaDeadLetters.ts';
import { KafkaSink } from '../../io/kafka/kafkaSink.ts';
import type { Envelope } from '../../engine/envelope.ts';
import { MemoryDeadLetters } from '../../engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../engine/memory.ts';
import { runTopology } from '../../engine/runner.ts';
import { readGoldArticles, scorePredictions } from '../../eval/evalPubtator.ts';
import { scoreCidRecords, type RelationScores } from '../../eval/evalRelations.ts';
import type { NerPrediction, PubmedArticle, RelationTriple } from '../../io/avro/types.generated.ts';
import { defaultModel } from '../../models/modelStepConfig.ts';
import {
  extractCidRelations,
  type DocumentWithConcepts,
} from '../../models/relations/extractCidRelations.ts';
import { toCidRelations } from '../../models/relations/toCidRelations.ts';
import { bundleSawData } from '../../models/bundleProvenance.ts';
import { splitArticle } from '../../text/sentences.ts';
import {
  abstractsSource,
  produceAbstracts,
  readBack,
  roundFigures,
  settleAndStop,
  withEvalBroker,
} from '../evalKafka.ts';
import { build as buildNerRelations, type NerRelationsInputs } from '../../../topologies/ner-relations.ts';

/** Options of `eval relations`. */
export interface EvalRelationsOptions {
  data: string;
  /** Relations on the gold mentions and ids (no NER, no normalization). */
  goldEntities?: boolean;
  /** NER bundle (default models/ner-bc5cdr), normalizer and CID bundles (defaults in models/). */
  model?: string;
  normalizer?: string;
  cid?: string;
  /** Emit relations at or above this probability (default: the CID bundle's threshold). */
  threshold?: number;
  limit?: number;
  maxBatch?: number;
  /** End to end through Kafka: KAFKA_BROKERS (or `brokers`), else an in-process librdkafka mock cluster. */
  kafka?: boolean;
  brokers?: string[];
}

/** The figures printed as the command's last line. */
export interface EvalRelationsResult extends RelationScores {
  /** Abstracts without any prediction record (end to end only; must be 0). */
  missing?: number;
  /**
   * Set when a bundle used (normalizer, CID model) was built from the data scored (a --with-dev build
   * on cdr_dev), so the figures are not held out; says how to get held-out ones.
   */
  notHeldOut?: string;
  /** End to end: concept F1 of the normalized predictions (BioCreative V DNER measure). */
  concepts?: Record<string, unknown>;
  deadLetters: number;
  seconds: number;
  mode: 'gold-entities' | 'end-to-end';
  transport: 'files' | 'kafka';
}

/** The CID step's input from a gold article: sentences (the engine's splitter) with the gold mentions. */
export function goldDocument(a: PubmedArticle): DocumentWithConcepts {
  const spans = splitArticle(a);
  return {
    pmid: a.pmid,
    text: `${a.title} ${a.abstract}`,
    sentences: spans.map((s) => ({
      start: s.start,
      end: s.end,
      entities: a.annotations
        .filter((g) => g.start >= s.start && g.start < s.end)
        .map((g) => ({ start: g.start, end: g.end, type: g.type, conceptId: g.conceptId })),
    })),
  };
}

/**
 * The note of the bundles built from `data` (figures on it are not held out), with how to get held-out
 * ones; null when none was.
 */
export function notHeldOut(bundles: string[], data: string): string | null {
  const notes = bundles.map((b) => bundleSawData(b, data)).filter((n): n is string => n !== null);
  if (notes.length === 0) return null;
  return (
    `${notes.join('; ')}. For held-out figures build the bundles on the training data alone ` +
    '(npm run train -- normalize --out /tmp/normalize-train-only; npm run train -- cid --out /tmp/cid-train-only) ' +
    'and pass them with --normalizer / --cid'
  );
}

/** Runs the evaluation and returns its figures. */
export async function evalRelations(o: EvalRelationsOptions): Promise<EvalRelationsResult> {
  const articles = readGoldArticles(o.data, o.limit);
  const t0 = performance.now();
  const dlq = new MemoryDeadLetters();
  const relations = new MemorySink<RelationTriple>('relations');
  const cidModel = o.cid ?? defaultModel('cid-relations');
  const minProbability = o.threshold;
  if (o.goldEntities) {
    const seenCid = notHeldOut([cidModel], o.data);
    const source = new MemorySource<DocumentWithConcepts>('documents', articles.map(goldDocument), {
      maxInFlight: 256,
      deadLetters: dlq,
      keyOf: (v) => (v as DocumentWithConcepts).pmid,
    });
    await runTopology({
      sources: { documents: source },
      sinks: { relations },
      build: (s, k) =>
        (s.documents as Observable<Envelope<DocumentWithConcepts>>).pipe(
          extractCidRelations({ model: cidModel, maxBatch: o.maxBatch ?? 32 }),
          toCidRelations(minProbability === undefined ? {} : { minProbability }),
          (k.relations as MemorySink<RelationTriple>).write(),
        ),
      config: {},
      handleSignals: false,
    }).done;
    return {
      ...scoreCidRecords(articles, relations.items),
      deadLetters: dlq.records.length,
      seconds: (performance.now() - t0) / 1000,
      ...(seenCid ? { notHeldOut: seenCid } : {}),
      mode: 'gold-entities',
      transport: 'files',
    };
  }
  const normalizer = o.normalizer ?? defaultModel('normalize-cdr');
  const seen = notHeldOut([normalizer, cidModel], o.data);
  const config = {
    ner: { model: o.model ?? defaultModel('ner-bc5cdr'), maxBatch: o.maxBatch ?? 32 },
    normalize: { model: normalizer },
    cid: { model: cidModel, maxBatch: o.maxBatch ?? 32 },
    ...(minProbability === undefined ? {} : { minCidProbability: minProbability }),
  };
  if (o.kafka)
    return { ...(await overKafka(articles, o, config, t0)), ...(seen ? { notHeldOut: seen } : {}) };
  const source = new MemorySource<PubmedArticle>('abstracts', articles, {
    maxInFlight: 256,
    deadLetters: dlq,
    keyOf: (v) => (v as PubmedArticle).pmid,
  });
  const predictions = new MemorySink<NerPrediction>('predictions');
  await runTopology({
    sources: { abstracts: source },
    sinks: { predictions, relations },
    build: (s, k) => buildNerRelations(s, k, config),
    config: {},
    handleSignals: false,
  }).done;
  const ner = scorePredictions(articles, predictions.items);
  return {
    ...scoreCidRecords(articles, relations.items),
    missing: ner.missing,
    ...(seen ? { notHeldOut: seen } : {}),
    ...(ner.concepts ? { concepts: ner.concepts } : {}),
    deadLetters: dlq.records.length,
    seconds: (performance.now() - t0) / 1000,
    mode: 'end-to-end',
    transport: 'files',
  };
}

/**
 * End to end over Kafka: abstracts produced Avro-encoded, ner-relations from topic to topics, the
 * predictions and relations read back and decoded with their schemas, then scored; `missing` counts
 * abstracts without any prediction record.
 */
async function overKafka(
  articles: PubmedArticle[],
  o: EvalRelationsOptions,
  config: NerRelationsInputs,
  t0: number,
): Promise<EvalRelationsResult> {
  const names = ['abstracts', 'predictions', 'relations', 'dlq'] as const;
  return withEvalBroker({ ...(o.brokers ? { brokers: o.brokers } : {}) }, names, async (b) => {
    await produceAbstracts(b, b.topics.abstracts, articles);
    const deadLetters = new KafkaDeadLetters({ brokers: b.brokers, topic: b.topics.dlq });
    const source = abstractsSource(b, b.topics.abstracts, 'relations', deadLetters);
    const written = { predictions: 0, relations: 0 };
    const counting = <T>(name: keyof typeof written, sink: KafkaSink<T>): Sink<unknown> => ({
      id: sink.id,
      write: () => (src) =>
        src.pipe(
          sink.write() as never,
          tap(() => written[name]++),
        ),
      close: () => sink.close(),
    });
    const running = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks: {
        predictions: counting('predictions', b.sink<NerPrediction>(b.topics.predictions, 'NerPrediction')),
        relations: counting('relations', b.sink<RelationTriple>(b.topics.relations, 'RelationTriple')),
      },
      deadLetters,
      build: (s, k) => buildNerRelations(s, k, config),
      config: {},
      handleSignals: false,
    });
    await settleAndStop(source, running, articles.length);
    const predictions = await readBack<NerPrediction>(
      b,
      b.topics.predictions,
      'NerPrediction',
      (n) => n >= written.predictions,
      `${written.predictions} records on ${b.topics.predictions}`,
    );
    const relations = await readBack<RelationTriple>(
      b,
      b.topics.relations,
      'RelationTriple',
      (n) => n >= written.relations,
      `${written.relations} records on ${b.topics.relations}`,
    );
    const ner = scorePredictions(articles, predictions);
    return {
      ...scoreCidRecords(articles, relations),
      missing: ner.missing,
      ...(ner.concepts ? { concepts: ner.concepts } : {}),
      deadLetters: source.stats.deadLettered,
      seconds: (performance.now() - t0) / 1000,
      mode: 'end-to-end',
      transport: 'kafka',
    };
  });
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** The action of `eval relations` (options in eval.ts): runs, scores, prints; errors print one line, exit code 2. */
export async function evalRelationsAction(opts: Record<string, string | boolean | undefined>): Promise<void> {
  try {
    const r = await evalRelations({
      data: String(opts.data),
      goldEntities: opts.goldEntities === true,
      ...(typeof opts.model === 'string' ? { model: opts.model } : {}),
      ...(typeof opts.normalizer === 'string' ? { normalizer: opts.normalizer } : {}),
      ...(typeof opts.cid === 'string' ? { cid: opts.cid } : {}),
      ...(typeof opts.threshold === 'string' ? { threshold: Number(opts.threshold) } : {}),
      limit: Number(opts.limit) || undefined,
      maxBatch: Number(opts.maxBatch),
      kafka: opts.kafka === true,
    });
    if (opts.kafka === true && opts.goldEntities === true)
      process.stderr.write(
        'eval relations: --kafka applies to the end-to-end run; --gold-entities ran on files\n',
      );
    if (r.notHeldOut) process.stderr.write(`eval relations: ${r.notHeldOut}\n`);
    process.stdout.write(
      `CID ${r.mode}: P ${round(r.precision)} R ${round(r.recall)} F1 ${round(r.f1)} (${r.abstracts} abstracts)\n`,
    );
    process.stdout.write(JSON.stringify({ ...(roundFigures(r) as object), data: opts.data }) + '\n');
  } catch (e) {
    process.stderr.write(`bioaug-stream eval relations: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
