// ner-tagging's document-level stage end to end: real CDR abstracts, the real NER bundle, through files
// (in-memory source and sink) and through Kafka (Avro over the librdkafka mock cluster). The records
// must be the same on both paths, keyed `pmid:index`, with token and entity offsets that slice the
// abstract exactly; and the stage must be doing something (records differ with it switched off).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemorySink, MemorySource } from '../../src/engine/memory.ts';
import { runTopology } from '../../src/engine/runner.ts';
import type { Sink, Source } from '../../src/engine/types.ts';
import { createCodec, type Codec } from '../../src/io/avro/codec.ts';
import type { NerPrediction, PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../helpers/sharedData.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { parsePubtator, pubtatorToArticle } from '../../src/text/pubtator.ts';
import { build, type NerTaggingInputs } from '../../topologies/ner-tagging.ts';
import { runInMemory, useTestBroker } from '../helpers/setup.ts';

const skip = skipWithoutSharedData('document-stage e2e');
const nerModel = resolve(projectRoot, 'models/ner-bc5cdr');
const N = 40;

function articles(): PubmedArticle[] {
  return parsePubtator(readFileSync(dataPath('pubtator/cdr_dev.pubtator'), 'utf8'))
    .slice(0, N)
    .map((d) => pubtatorToArticle(d, { gold: false }));
}

/** Records by key, without the wall-clock field. */
function byKey(items: Array<{ key: string | null; value: NerPrediction }>): Map<string, unknown> {
  return new Map(items.map(({ key, value }) => [key ?? '', { ...value, createdAt: 0 }]));
}

async function viaFiles(
  inputs: NerTaggingInputs,
): Promise<Array<{ key: string | null; value: NerPrediction }>> {
  const { sinks } = await runInMemory<PubmedArticle, { predictions: NerPrediction }>({
    source: 'abstracts',
    records: articles(),
    keyOf: (a) => a.pmid,
    sinks: ['predictions'],
    build: (s, k) => build(s, k, inputs),
  });
  return sinks.predictions.items;
}

describe.skipIf(skip)('ner-tagging document-level stage', () => {
  const broker = useTestBroker();
  let codec: Codec;
  beforeAll(async () => {
    codec = await createCodec();
  });

  it('gives identical records with exact offsets over files and Kafka, and changes what the sentence level gave', async () => {
    const inputs: NerTaggingInputs = { ner: { model: nerModel } };
    const files = await viaFiles(inputs);

    const run = `docstage-${Date.now()}`;
    const topic = (n: string): string => `${run}.${n}`;
    for (const t of ['abstracts', 'predictions']) await broker.createTopic(topic(t), 3);
    const brokers = broker.brokers;
    await runTopology({
      sources: { feed: new MemorySource('feed', articles(), { keyOf: (v) => (v as PubmedArticle).pmid }) },
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
      groupId: `${run}-tag`,
      maxInFlight: 8,
      decode: (raw) => codec.decode(raw, 'PubmedArticle'),
    });
    const tagging = runTopology({
      sources: { abstracts: source as Source<unknown> },
      sinks: {
        predictions: new KafkaSink<NerPrediction>({
          brokers,
          topic: topic('predictions'),
          encode: (v) => codec.encode('NerPrediction', v),
        }) as Sink<unknown>,
      },
      build: (s, k) => build(s, k, inputs),
      config: {},
      handleSignals: false,
    });
    const deadline = Date.now() + 60_000;
    while (source.stats.acked < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await tagging.stop();
    expect(source.stats.acked).toBe(N);

    const reader = new KafkaSource<NerPrediction>({
      brokers,
      topics: [topic('predictions')],
      groupId: `${run}-read`,
      decode: (raw) => codec.decode(raw, 'NerPrediction'),
    });
    const got = new MemorySink<NerPrediction>('got');
    const reading = runTopology({
      sources: { r: reader as Source<unknown> },
      sinks: { got: got as Sink<unknown> },
      build: (s, k) => s.r!.pipe(k.got!.write()),
      config: {},
      handleSignals: false,
    });
    const giveUp = Date.now() + 30_000;
    while (got.items.length < files.length && Date.now() < giveUp)
      await new Promise((r) => setTimeout(r, 100));
    await reading.stop();

    // Same records, same keys, on both paths.
    expect(got.items.length).toBe(files.length);
    expect(byKey(got.items)).toEqual(byKey(files));

    // Exact document offsets: tokens and entities slice the abstract, entities lie on token bounds.
    const texts = new Map(articles().map((a) => [a.pmid, `${a.title} ${a.abstract}`]));
    let mentions = 0;
    for (const { key, value: p } of files) {
      expect(key).toBe(`${p.pmid}:${p.sentenceIndex}`);
      const doc = texts.get(p.pmid)!;
      p.tokens.forEach((t, i) => expect(doc.slice(p.tokenStarts[i], p.tokenEnds[i])).toBe(t));
      for (const e of p.entities) {
        expect(doc.slice(e.start, e.end)).toBe(e.text);
        expect(p.tokenStarts).toContain(e.start);
        expect(p.tokenEnds).toContain(e.end);
        mentions++;
      }
      expect(p.tags.filter((t) => t.startsWith('B-'))).toHaveLength(p.entities.length);
    }
    expect(mentions).toBeGreaterThan(300);

    // The stage is not a no-op: with its rules off the records differ (the same keys, other entities).
    const off = await viaFiles({
      ...inputs,
      document: {
        abbreviations: { enabled: false },
        consistency: { enabled: false },
        brackets: { enabled: false },
      },
    });
    expect([...byKey(off).keys()].sort()).toEqual([...byKey(files).keys()].sort());
    expect(byKey(off)).not.toEqual(byKey(files));
  }, 120_000);
});
