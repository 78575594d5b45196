// `eval pubtator`: runs the ner-tagging topology over PubTator abstracts (from the file, or through
// a real Kafka broker) and scores the predictions with src/eval/evalPubtator.ts. The run lives here
// because only the CLI may compose topologies; eval only scores.
import { MemoryDeadLetters } from '../../engine/deadLetters.ts';
import { MemorySink, MemorySource } from '../../engine/memory.ts';
import { runTopology } from '../../engine/runner.ts';
import type { Source } from '../../engine/types.ts';
import { readGoldArticles, scorePredictions, type PubtatorScores } from '../../eval/evalPubtator.ts';
import type { NerPrediction, PubmedArticle } from '../../io/avro/types.generated.ts';
import { KafkaDeadLetters } from '../../io/kafka/kafkaDeadLetters.ts';
import { DocumentStageConfig } from '../../models/ner/documentStageConfig.ts';
import { defaultModel } from '../../models/modelStepConfig.ts';
import { bundleSawData } from '../../models/bundleProvenance.ts';
import { ConfigError } from '../config.ts';
import {
  abstractsSource,
  produceAbstracts,
  readBack,
  roundFigures,
  settleAndStop,
  withEvalBroker,
} from '../evalKafka.ts';
import { articleSentences } from '../../text/splitSentences.ts';
import { build as buildNerTagging, type NerTaggingInputs } from '../../../topologies/ner-tagging.ts';

/** Options of the document-level evaluation. */
export interface EvalPubtatorOptions {
  model: string;
  data: string;
  /** Score only these types (default: the gold types the model predicts). */
  types?: string[];
  limit?: number;
  maxBatch?: number;
  /** Tokenization fed to the model (a style or corpus name; default: the ner-tagging default). */
  tokenizerStyle?: string;
  /** Normalization bundle of the concepts (default: ner-tagging's, models/normalize-cdr). */
  normalizer?: string;
  /** ner-tagging's document-level stage config (its `document` block), over its defaults. */
  document?: NerTaggingInputs['document'];
  /** Route abstracts and predictions through Kafka (KAFKA_BROKERS, else an in-process mock cluster). */
  kafka?: boolean;
  brokers?: string[];
  /** How to create the evaluation topics on `brokers` (default: the admin API; the mock has none). */
  createTopic?: (name: string, partitions: number) => Promise<void>;
  partitions?: number;
}

/** The result printed as the command's last line. */
export interface EvalPubtatorResult extends PubtatorScores {
  deadLetters: number;
  seconds: number;
  transport: 'files' | 'kafka';
  brokers?: string;
}

function nerConfig(o: EvalPubtatorOptions): Parameters<typeof buildNerTagging>[2] {
  return {
    ner: { model: o.model, maxBatch: o.maxBatch ?? 32 },
    ...(o.tokenizerStyle ? { tokenizerStyle: o.tokenizerStyle } : {}),
    ...(o.document ? { document: o.document } : {}),
    ...(o.normalizer ? { normalize: { model: o.normalizer } } : {}),
  };
}

/** Runs the evaluation and returns its figures. */
export async function evalPubtator(o: EvalPubtatorOptions): Promise<EvalPubtatorResult> {
  const articles = readGoldArticles(o.data, o.limit);
  const t0 = performance.now();
  if (!o.kafka) {
    const dlq = new MemoryDeadLetters();
    const source = new MemorySource<PubmedArticle>('abstracts', articles, {
      maxInFlight: 256,
      deadLetters: dlq,
      keyOf: (v) => (v as PubmedArticle).pmid,
    });
    const sink = new MemorySink<NerPrediction>('predictions');
    await runTopology({
      sources: { abstracts: source },
      sinks: { predictions: sink },
      build: (s, k) => buildNerTagging(s, k, nerConfig(o)),
      config: {},
      handleSignals: false,
    }).done;
    return {
      ...scorePredictions(articles, sink.items, o.types),
      deadLetters: dlq.records.length,
      seconds: (performance.now() - t0) / 1000,
      transport: 'files',
    };
  }
  return evalOverKafka(articles, o, t0);
}

async function evalOverKafka(
  articles: PubmedArticle[],
  o: EvalPubtatorOptions,
  t0: number,
): Promise<EvalPubtatorResult> {
  return withEvalBroker(o, ['abstracts', 'predictions', 'dlq'] as const, async (b) => {
    await produceAbstracts(b, b.topics.abstracts, articles);
    // The ner-tagging topology, Kafka to Kafka.
    const deadLetters = new KafkaDeadLetters({ brokers: b.brokers, topic: b.topics.dlq });
    const source = abstractsSource(b, b.topics.abstracts, 'ner', deadLetters);
    const running = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks: { predictions: b.sink<NerPrediction>(b.topics.predictions, 'NerPrediction') as never },
      deadLetters,
      build: (s, k) => buildNerTagging(s, k, nerConfig(o)),
      config: {},
      handleSignals: false,
    });
    await settleAndStop(source, running, articles.length);
    // Every expected record, then 1.5 s without a new one (duplicates would still be arriving).
    const expected = source.stats.acked > 0 ? expectedSentences(articles) : 0;
    let last = -1;
    let quietSince = Date.now();
    const predictions = await readBack<NerPrediction>(
      b,
      b.topics.predictions,
      'NerPrediction',
      (n) => {
        if (n !== last) {
          last = n;
          quietSince = Date.now();
        }
        return n >= expected && Date.now() - quietSince > 1500;
      },
      `${expected} prediction records on ${b.topics.predictions}`,
    );
    return {
      ...scorePredictions(articles, predictions, o.types),
      deadLetters: source.stats.deadLettered,
      seconds: (performance.now() - t0) / 1000,
      transport: 'kafka',
      brokers: b.description,
    };
  });
}

/** Sentences the splitter makes from the articles: how many prediction records to expect back. */
function expectedSentences(articles: PubmedArticle[]): number {
  return articles.reduce((n, a) => n + articleSentences(a).length, 0);
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** The `--document` JSON, validated against the stage's schema (the error lists the bad fields). */
function parseDocumentOption(json: string): NerTaggingInputs['document'] {
  const raw = ((): unknown => {
    try {
      return JSON.parse(json) as unknown;
    } catch {
      return undefined;
    }
  })();
  if (raw === undefined)
    throw new ConfigError(`--document: not JSON: ${json}; e.g. '{"abbreviations":{"enabled":false}}'`);
  const r = DocumentStageConfig.safeParse(raw);
  if (!r.success)
    throw new ConfigError(
      `--document: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

/** The action of `eval pubtator` (options in eval.ts): runs, scores, prints; errors print one line, exit code 2. */
export async function evalPubtatorAction(opts: Record<string, string | boolean | undefined>): Promise<void> {
  const model = typeof opts.model === 'string' ? opts.model : defaultModel('ner-bc5cdr');
  try {
    const r = await evalPubtator({
      model,
      data: String(opts.data),
      types: typeof opts.types === 'string' ? opts.types.split(',').map((t) => t.trim()) : undefined,
      limit: Number(opts.limit) || undefined,
      maxBatch: Number(opts.maxBatch),
      kafka: opts.kafka === true,
      ...(typeof opts.tokenizer === 'string' ? { tokenizerStyle: opts.tokenizer } : {}),
      ...(typeof opts.document === 'string' ? { document: parseDocumentOption(opts.document) } : {}),
      ...(typeof opts.normalizer === 'string' ? { normalizer: opts.normalizer } : {}),
      partitions: Number(opts.partitions),
    });
    const saw = r.concepts
      ? bundleSawData(
          typeof opts.normalizer === 'string' ? opts.normalizer : defaultModel('normalize-cdr'),
          String(opts.data),
        )
      : null;
    const seen = saw
      ? `${saw}; for held-out concept figures build the training-only dictionary ` +
        '(npm run train -- normalize --out /tmp/normalize-train-only) and pass --normalizer /tmp/normalize-train-only'
      : null;
    if (seen) process.stderr.write(`eval pubtator: ${seen}\n`);
    // an NER bundle trained on train + dev (the shipped defaults) has seen the dev abstracts' labels
    const nerSaw = bundleSawData(model, String(opts.data));
    if (nerSaw) process.stderr.write(`eval pubtator: ${nerSaw}\n`);
    const perType = Object.fromEntries(
      Object.entries(r.per_type).map(([k, v]) => [
        k,
        {
          precision: round(v.precision),
          recall: round(v.recall),
          f1: round(v.f1),
          tp: v.tp,
          fp: v.fp,
          fn: v.fn,
        },
      ]),
    );
    for (const [k, v] of Object.entries(perType))
      process.stdout.write(`${k.padEnd(12)} P ${v.precision} R ${v.recall} F1 ${v.f1}\n`);
    process.stdout.write(
      JSON.stringify({
        precision: round(r.precision),
        recall: round(r.recall),
        f1: round(r.f1),
        per_type: perType,
        // BioCreative V concept measure of the entities' MeSH ids (concepts.Chemical.f1, ...).
        ...(r.concepts ? { concepts: roundFigures(r.concepts) } : {}),
        ...(seen ? { concepts_not_held_out: seen } : {}),
        ...(nerSaw ? { ner_not_held_out: nerSaw } : {}),
        abstracts: r.abstracts,
        predictions: r.predictions,
        ...(r.transport === 'kafka' ? { missing: r.missing, duplicates: r.duplicates } : {}),
        dead_letters: r.deadLetters,
        seconds: round(r.seconds),
        transport: r.transport,
        ...(r.brokers ? { brokers: r.brokers } : {}),
        model,
        data: opts.data,
      }) + '\n',
    );
  } catch (e) {
    process.stderr.write(`bioaug-stream eval pubtator: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
