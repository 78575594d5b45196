// ner-relations over a Kafka-protocol broker (librdkafka mock cluster, or KAFKA_BROKERS) gives the same
// records as over files: abstracts produced Avro-encoded, predictions (with concept ids) and CID
// relations read back from their topics and decoded with their schemas, compared key by key.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology } from '../../src/engine/runner.ts';
import type { Sink, Source } from '../../src/engine/types.ts';
import { createCodec, type Codec } from '../../src/io/avro/codec.ts';
import type { NerPrediction, PubmedArticle, RelationTriple } from '../../src/io/avro/types.generated.ts';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { parsePubtator, pubtatorToArticle } from '../../src/text/pubtator.ts';
import { build } from '../../topologies/ner-relations.ts';
import { runInMemory, useTestBroker } from '../helpers/setup.ts';

// 40 CDR dev abstracts; outside CI without the shared data, the synthetic fixture (in CI absent data fails).
const file = skipWithoutSharedData('kafka-relations e2e on CDR dev (using the synthetic fixture)')
  ? resolve(projectRoot, 'test/fixtures/io/cid-tiny.pubtator')
  : dataPath('pubtator/cdr_dev.pubtator');
const articles: PubmedArticle[] = parsePubtator(readFileSync(file, 'utf8'))
  .slice(0, 40)
  .map((d) => pubtatorToArticle(d, { gold: false }));

type Out = { predictions: Map<string, NerPrediction>; relations: Map<string, RelationTriple> };

function normalized(o: Out): unknown {
  // createdAt is the wall clock at emission: the only field allowed to differ.
  const strip = <T extends { createdAt: number }>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v, createdAt: 0 }]);
  return { predictions: strip(o.predictions), relations: strip(o.relations) };
}

async function viaFiles(): Promise<Out> {
  const { sinks } = await runInMemory<
    PubmedArticle,
    { predictions: NerPrediction; relations: RelationTriple }
  >({
    source: 'abstracts',
    records: articles,
    keyOf: (a) => a.pmid,
    sinks: ['predictions', 'relations'],
    build: (s, k) => build(s, k, {}),
  });
  return {
    predictions: new Map(sinks.predictions.items.map((i) => [i.key!, i.value])),
    relations: new Map(sinks.relations.items.map((i) => [i.key!, i.value])),
  };
}

describe('ner-relations over Kafka', () => {
  const broker = useTestBroker();
  let codec: Codec;
  beforeAll(async () => {
    codec = await createCodec();
  });

  it('gives the same predictions (concept ids included) and CID relations as files, key by key', async () => {
    const run = `relations-${Date.now()}`;
    const topic = (n: string) => `${run}.${n}`;
    for (const t of ['abstracts', 'predictions', 'relations']) await broker.createTopic(topic(t), 3);
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
    const source = new KafkaSource<PubmedArticle>({
      brokers,
      topics: [topic('abstracts')],
      groupId: `${run}-topology`,
      maxInFlight: 16,
      decode: (raw) => codec.decode(raw, 'PubmedArticle'),
    });
    const running = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks: {
        predictions: new KafkaSink<NerPrediction>({
          brokers,
          topic: topic('predictions'),
          encode: (v) => codec.encode('NerPrediction', v),
        }) as Sink<unknown>,
        relations: new KafkaSink<RelationTriple>({
          brokers,
          topic: topic('relations'),
          encode: (v) => codec.encode('RelationTriple', v),
        }) as Sink<unknown>,
      },
      build: (s, k) => build(s, k, {}),
      config: {},
      handleSignals: false,
    });
    const files = await viaFiles();
    const deadline = Date.now() + 120_000;
    while (source.stats.acked < articles.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await running.stop();
    expect(source.stats.acked).toBe(articles.length);

    const read = async <T>(
      name: 'predictions' | 'relations',
      schema: 'NerPrediction' | 'RelationTriple',
      n: number,
    ) => {
      const reader = new KafkaSource<T>({
        brokers,
        topics: [topic(name)],
        groupId: `${run}-read-${name}`,
        decode: (raw) => codec.decode(raw, schema) as T,
      });
      const got = new MemorySink<T>(name);
      const r = runTopology({
        sources: { r: reader as Source<unknown> },
        sinks: { got: got as Sink<unknown> },
        build: (s, k) => s.r!.pipe(k.got!.write()),
        config: {},
        handleSignals: false,
      });
      const giveUp = Date.now() + 60_000;
      while (got.items.length < n && Date.now() < giveUp) await new Promise((res) => setTimeout(res, 100));
      await r.stop();
      return new Map(got.items.map((i) => [i.key!, i.value]));
    };
    const kafka: Out = {
      predictions: await read<NerPrediction>('predictions', 'NerPrediction', files.predictions.size),
      relations: await read<RelationTriple>('relations', 'RelationTriple', files.relations.size),
    };
    console.log(
      `ner-relations: ${articles.length} abstracts -> ${kafka.predictions.size} predictions, ${kafka.relations.size} CID relations over Kafka (files: ${files.predictions.size}, ${files.relations.size})`,
    );
    expect(files.relations.size).toBeGreaterThan(0);
    expect([...files.predictions.values()].some((p) => p.entities.some((e) => e.conceptId !== null))).toBe(
      true,
    );
    expect(normalized(kafka)).toEqual(normalized(files));
  }, 240_000);
});
