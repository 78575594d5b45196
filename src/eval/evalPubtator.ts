// Document-level evaluation: run the ner-tagging topology over PubTator abstracts (from the file, or
// through a real Kafka broker) and score predicted mentions against the gold offsets.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { MemorySink, MemorySource } from '../engine/memory.ts';
import { MemoryDeadLetters } from '../engine/deadLetters.ts';
import { runTopology } from '../engine/runner.ts';
import type { Source } from '../engine/types.ts';
import { createCodec } from '../io/avro/codec.ts';
import type { NerPrediction, PubmedArticle } from '../io/avro/types.generated.ts';
import { createKafka, parseBrokers } from '../io/kafka/client.ts';
import { KafkaSink } from '../io/kafka/kafkaSink.ts';
import { KafkaSource } from '../io/kafka/kafkaSource.ts';
import { startMockCluster, type MockCluster } from '../io/kafka/mockCluster.ts';
import { parsePubtator } from '../text/pubtator.ts';
import { build as buildNerTagging } from '../../topologies/ner-tagging.ts';
import { scoreMentions, type DocMention, type DocumentScores } from './documentF1.ts';

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
  /** Route abstracts and predictions through Kafka (KAFKA_BROKERS, else an in-process mock cluster). */
  kafka?: boolean;
  brokers?: string[];
  /** How to create the evaluation topics on `brokers` (default: the admin API; the mock has none). */
  createTopic?: (name: string, partitions: number) => Promise<void>;
  partitions?: number;
}

/** The result printed as the command's last line. */
export interface EvalPubtatorResult extends DocumentScores {
  abstracts: number;
  predictions: number;
  /** Abstracts without any prediction record (must be 0). */
  missing: number;
  /** Prediction records whose key was seen before (at-least-once delivery). */
  duplicates: number;
  deadLetters: number;
  seconds: number;
  transport: 'files' | 'kafka';
  brokers?: string;
}

function articlesOf(path: string, limit?: number): PubmedArticle[] {
  const docs = parsePubtator(readFileSync(path, 'utf8'));
  return (limit ? docs.slice(0, limit) : docs).map((d) => ({
    pmid: d.pmid,
    title: d.title,
    abstract: d.abstract,
    journal: null,
    year: null,
    mesh: [],
    annotations: d.annotations.map((a) => ({
      start: a.start,
      end: a.end,
      text: a.mention,
      type: a.type,
      conceptId: a.id === '' ? null : a.id,
      extra: a.extra ?? [],
    })),
    relations: [],
  }));
}

function score(
  articles: PubmedArticle[],
  preds: Array<{ key: string | null; value: NerPrediction }>,
  o: EvalPubtatorOptions,
): Omit<EvalPubtatorResult, 'seconds' | 'transport' | 'deadLetters'> {
  const seen = new Set<string>();
  let duplicates = 0;
  const mentions: DocMention[] = [];
  const predicted = new Set<string>();
  for (const { key, value } of preds) {
    const k = key ?? value.id;
    if (seen.has(k)) {
      duplicates++;
      continue;
    }
    seen.add(k);
    predicted.add(value.pmid);
    for (const e of value.entities)
      mentions.push({ pmid: value.pmid, start: e.start, end: e.end, type: e.type });
  }
  const gold: DocMention[] = articles.flatMap((a) =>
    a.annotations.map((g) => ({ pmid: a.pmid, start: g.start, end: g.end, type: g.type })),
  );
  const predTypes = new Set(mentions.map((m) => m.type));
  const types = o.types ?? [...new Set(gold.map((g) => g.type))].filter((t) => predTypes.has(t));
  const s = scoreMentions(gold, mentions, types.length > 0 ? types : undefined);
  return {
    ...s,
    abstracts: articles.length,
    predictions: seen.size,
    missing: articles.filter((a) => !predicted.has(a.pmid)).length,
    duplicates,
  };
}

function nerConfig(o: EvalPubtatorOptions): Parameters<typeof buildNerTagging>[2] {
  return {
    ner: { model: o.model, maxBatch: o.maxBatch ?? 32 },
    ...(o.tokenizerStyle ? { tokenizerStyle: o.tokenizerStyle } : {}),
  };
}

/** Runs the evaluation and returns its figures. */
export async function evalPubtator(o: EvalPubtatorOptions): Promise<EvalPubtatorResult> {
  const articles = articlesOf(o.data, o.limit);
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
      ...score(articles, sink.items, o),
      deadLetters: dlq.records.length,
      seconds: (performance.now() - t0) / 1000,
      transport: 'files',
    };
  }
  return evalOverKafka(articles, o, t0);
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`eval pubtator --kafka: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function evalOverKafka(
  articles: PubmedArticle[],
  o: EvalPubtatorOptions,
  t0: number,
): Promise<EvalPubtatorResult> {
  const external = o.brokers ?? parseBrokers(process.env.KAFKA_BROKERS);
  let mock: MockCluster | null = null;
  const brokers = external.length > 0 ? external : (mock = startMockCluster(3)).brokers;
  const run = randomUUID().slice(0, 8);
  const topics = {
    abstracts: `eval.${run}.abstracts`,
    predictions: `eval.${run}.predictions`,
    dlq: `eval.${run}.dlq`,
  };
  const partitions = o.partitions ?? 3;
  try {
    if (mock) for (const t of Object.values(topics)) mock.createTopic(t, partitions, 3);
    else if (o.createTopic) for (const t of Object.values(topics)) await o.createTopic(t, partitions);
    else {
      const admin = createKafka({ brokers }).admin();
      await admin.connect();
      await admin.createTopics({
        topics: Object.values(topics).map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: true,
      });
      await admin.disconnect();
    }
    const codec = await createCodec();

    // 1. Produce the abstracts (Avro, keyed by PMID) with the engine's own Kafka sink.
    const feed = new MemorySource<PubmedArticle>('eval-feed', articles, {
      maxInFlight: 500,
      keyOf: (v) => (v as PubmedArticle).pmid,
    });
    await runTopology({
      sources: { feed },
      sinks: {
        abstracts: new KafkaSink<PubmedArticle>({
          brokers,
          topic: topics.abstracts,
          schema: 'bioaug.stream.PubmedArticle',
          encode: (v) => codec.encode('PubmedArticle', v),
        }) as never,
      },
      build: (s, k) => s.feed!.pipe(k.abstracts!.write()),
      config: {},
      handleSignals: false,
    }).done;

    // 2. The ner-tagging topology, Kafka to Kafka.
    const { KafkaDeadLetters } = await import('../io/kafka/kafkaDeadLetters.ts');
    const deadLetters = new KafkaDeadLetters({ brokers, topic: topics.dlq });
    const source = new KafkaSource<PubmedArticle>({
      brokers,
      topics: [topics.abstracts],
      groupId: `eval-${run}-ner`,
      fromBeginning: true,
      maxInFlight: 256,
      decode: (raw) => codec.decode(raw, 'PubmedArticle'),
      deadLetters,
    });
    const running = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks: {
        predictions: new KafkaSink<NerPrediction>({
          brokers,
          topic: topics.predictions,
          schema: 'bioaug.stream.NerPrediction',
          encode: (v) => codec.encode('NerPrediction', v),
        }) as never,
      },
      deadLetters,
      build: (s, k) => buildNerTagging(s, k, nerConfig(o)),
      config: {},
      handleSignals: false,
    });
    await waitFor(
      () => source.stats.acked + source.stats.deadLettered >= articles.length,
      30 * 60_000,
      'the topology to settle every abstract',
    );
    await running.stop();

    // 3. Read the predictions back from the output topic, decoding every record with its schema.
    const back = new KafkaSource<NerPrediction>({
      brokers,
      topics: [topics.predictions],
      groupId: `eval-${run}-reader`,
      fromBeginning: true,
      maxInFlight: 5000,
      decode: (raw) => codec.decode(raw, 'NerPrediction'),
    });
    const collected = new MemorySink<NerPrediction>('read-back');
    const reading = runTopology({
      sources: { back: back as Source<unknown> },
      sinks: { out: collected as never },
      build: (s, k) => s.back!.pipe(k.out!.write()),
      config: {},
      handleSignals: false,
    });
    const expected = source.stats.acked > 0 ? await expectedSentences(articles) : 0;
    let last = -1;
    let quietSince = Date.now();
    await waitFor(
      () => {
        if (collected.items.length !== last) {
          last = collected.items.length;
          quietSince = Date.now();
        }
        return collected.items.length >= expected && Date.now() - quietSince > 1500;
      },
      10 * 60_000,
      `${expected} prediction records on ${topics.predictions}`,
    );
    await reading.stop();
    return {
      ...score(articles, collected.items, o),
      deadLetters: source.stats.deadLettered,
      seconds: (performance.now() - t0) / 1000,
      transport: 'kafka',
      brokers: mock ? 'librdkafka mock cluster (3 brokers, in-process)' : brokers.join(','),
    };
  } finally {
    mock?.destroy();
  }
}

/** Sentences the splitter makes from the articles: how many prediction records to expect back. */
async function expectedSentences(articles: PubmedArticle[]): Promise<number> {
  const { articleSentences } = await import('../text/splitSentences.ts');
  return articles.reduce((n, a) => n + articleSentences(a).length, 0);
}
