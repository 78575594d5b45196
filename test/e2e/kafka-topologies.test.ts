// The topologies end to end over a real Kafka-protocol broker (librdkafka mock cluster, or
// KAFKA_BROKERS): abstracts produced Avro-encoded, consumed by the topology, outputs read back and
// decoded with their schemas.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tap } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology } from '../../src/engine/runner.ts';
import type { Sink, Source } from '../../src/engine/types.ts';
import { createCodec, type Codec } from '../../src/io/avro/codec.ts';
import type { SchemaName } from '../../src/io/avro/schemas.ts';
import type { PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { KafkaDeadLetters } from '../../src/io/kafka/kafkaDeadLetters.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { evalPubtator } from '../../src/cli/commands/evalPubtator.ts';
import { parsePubtator, pubtatorToArticle } from '../../src/text/pubtator.ts';
import { build as buildIngest, resolve as resolveIngest } from '../../topologies/ingest.ts';
import { useTestBroker } from '../helpers/setup.ts';

const skip = skipWithoutSharedData('kafka e2e');
const cdr = dataPath('pubtator/cdr_dev.pubtator');
const nerModel = resolve(projectRoot, 'models/ner-bc5cdr');
const fx = (name: string): string => resolve(projectRoot, 'test/fixtures/models', name);

describe.skipIf(skip)('topologies over Kafka', () => {
  const broker = useTestBroker();
  let codec: Codec;
  beforeAll(async () => {
    codec = await createCodec();
  });

  it('ner-tagging: all 500 CDR dev abstracts through Kafka give the same document-level F1 as files', async () => {
    const viaKafka = await evalPubtator({
      model: nerModel,
      data: cdr,
      kafka: true,
      brokers: broker.brokers,
      createTopic: (t, p) => broker.createTopic(t, p),
    });
    const viaFiles = await evalPubtator({ model: nerModel, data: cdr });
    console.log(
      `ner-tagging over Kafka: ${viaKafka.abstracts} abstracts, ${viaKafka.predictions} predictions, ` +
        `missing ${viaKafka.missing}, duplicates ${viaKafka.duplicates}, document-level F1 ${viaKafka.f1.toFixed(2)} ` +
        `(files: ${viaFiles.f1.toFixed(2)})`,
    );
    expect(viaKafka.abstracts).toBe(500);
    expect(viaKafka.missing).toBe(0);
    expect(viaKafka.deadLetters).toBe(0);
    expect(viaKafka.predictions).toBe(viaFiles.predictions);
    expect(viaKafka.f1).toBeCloseTo(viaFiles.f1, 6);
  });

  it('ingest: abstracts to four output topics, every record decodes with its schema', async () => {
    const articles: PubmedArticle[] = parsePubtator(readFileSync(cdr, 'utf8'))
      .slice(0, 12)
      .map((d) => pubtatorToArticle(d, { gold: false }));
    const run = `ingest-${Date.now()}`;
    const topic = (n: string) => `${run}.${n}`;
    const outputs: Array<[string, SchemaName]> = [
      ['predictions', 'NerPrediction'],
      ['relations', 'RelationTriple'],
      ['augmented', 'AugmentedSentence'],
      ['pairs', 'TrainingPair'],
    ];
    for (const t of ['abstracts', 'dlq', ...outputs.map((o) => o[0])]) await broker.createTopic(topic(t), 3);
    const brokers = broker.brokers;
    await runTopology({
      sources: { feed: new MemorySource('feed', articles, { keyOf: (v) => (v as PubmedArticle).pmid }) },
      sinks: {
        out: new KafkaSink<PubmedArticle>({
          brokers,
          topic: topic('abstracts'),
          encode: (v) => codec.encode('PubmedArticle', v),
        }) as Sink<unknown>,
      },
      build: (s, k) => s.feed!.pipe(k.out!.write()),
      config: {},
      handleSignals: false,
    }).done;

    const deadLetters = new KafkaDeadLetters({ brokers, topic: topic('dlq') });
    const source = new KafkaSource<PubmedArticle>({
      brokers,
      topics: [topic('abstracts')],
      groupId: `${run}-ingest`,
      maxInFlight: 8,
      decode: (raw) => codec.decode(raw, 'PubmedArticle'),
      deadLetters,
    });
    // Count what each sink had acknowledged, to know how many records to read back.
    const written: Record<string, number> = {};
    const sinks = Object.fromEntries(
      outputs.map(([name, schema]): [string, Sink<unknown>] => {
        const k = new KafkaSink<unknown>({
          brokers,
          topic: topic(name),
          encode: (v) => codec.encode(schema, v as never),
        });
        written[name] = 0;
        return [
          name,
          {
            id: k.id,
            write: () => (src) =>
              src.pipe(
                k.write(),
                tap(() => written[name]!++),
              ),
            close: () => k.close(),
          },
        ];
      }),
    );
    const inputs = await resolveIngest({
      ner: { model: nerModel },
      keywords: { model: fx('crf-tagger') },
      relations: { model: fx('relations') },
      minRelationProbability: 0,
      bioaug: { generator: { model: fx('seq2seq') }, n: 1, maxNewTokens: 8 },
    });
    const running = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks,
      deadLetters,
      build: (s, k) => buildIngest(s, k, inputs),
      config: {},
      handleSignals: false,
    });
    const deadline = Date.now() + 240_000;
    while (source.stats.acked < articles.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await running.stop();
    expect(source.stats.acked).toBe(articles.length);

    const counts: Record<string, number> = {};
    const pmidsWithPredictions = new Set<string>();
    for (const [name, schema] of outputs) {
      const reader = new KafkaSource<unknown>({
        brokers,
        topics: [topic(name)],
        groupId: `${run}-read-${name}`,
        decode: (raw) => codec.decode(raw, schema),
      });
      const got = new MemorySink<unknown>(name);
      const r = runTopology({
        sources: { r: reader as Source<unknown> },
        sinks: { got: got as Sink<unknown> },
        build: (s, k) => s.r!.pipe(k.got!.write()),
        config: {},
        handleSignals: false,
      });
      const giveUp = Date.now() + 60_000;
      while (got.items.length < written[name]! && Date.now() < giveUp)
        await new Promise((res) => setTimeout(res, 200));
      await r.stop();
      expect(reader.stats.deadLettered).toBe(0);
      counts[name] = got.items.length;
      if (name === 'predictions')
        for (const i of got.items) pmidsWithPredictions.add((i.value as { pmid: string }).pmid);
    }
    expect(counts).toEqual(written);
    console.log(`ingest over Kafka: ${articles.length} abstracts -> ${JSON.stringify(counts)}`);
    expect(pmidsWithPredictions.size).toBe(articles.length);
    expect(counts.predictions).toBeGreaterThan(articles.length);
    expect(counts.augmented).toBeGreaterThan(0);
    expect(counts.pairs).toBeGreaterThan(0);
  });
});
