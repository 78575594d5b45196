import { beforeAll, describe, expect, it } from 'vitest';
import { merge, type Observable } from 'rxjs';
import { committedTotal, produceRaw, readAll, waitFor } from '../helpers/kafkaData.ts';
import { KafkaSource } from '../../src/io/kafka/kafkaSource.ts';
import { KafkaSink } from '../../src/io/kafka/kafkaSink.ts';
import { KafkaDeadLetters } from '../../src/io/kafka/kafkaDeadLetters.ts';
import { runTopology } from '../../src/engine/runner.ts';
import { mapStep } from '../../src/engine/step.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { createCodec, type Codec } from '../../src/io/avro/index.ts';
import { useTestBroker } from '../helpers/setup.ts';

type Article = { pmid: string; title: string; abstract: string };
const broker = useTestBroker();
let codec: Codec;

beforeAll(async () => {
  codec = await createCodec();
  for (const t of ['dl.avro', 'dl.json', 'dl.out', 'dl.dlq']) await broker.createTopic(t, 1);
});

const article = (pmid: string, abstract = `Abstract of ${pmid}.`): Article => ({
  pmid,
  title: `T${pmid}`,
  abstract,
});

describe('bad input lands in the dead-letter topic with its headers; the stream goes on', () => {
  it('undecodable Avro, unknown schema id, invalid fields, oversized, invalid UTF-8, null, empty abstract, operator exception', async () => {
    const good = (i: number): Buffer => codec.encode('PubmedArticle', article(`g${i}`) as never);
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), good(0).subarray(5)]);
    const undecodable = Buffer.concat([
      good(0).subarray(0, 5),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    ]);
    const avroBad: Array<[string, Buffer | null, string, string]> = [
      ['bad-undecodable', undecodable, 'decode', 'DecodeError'],
      ['bad-unknown-id', unknownId, 'decode', 'DecodeError'],
      [
        'bad-oversized',
        codec.encode('PubmedArticle', article('big', 'x'.repeat(5000)) as never),
        'decode',
        'OversizedMessageError',
      ],
      ['bad-null', null, 'decode', 'NullValueError'],
      [
        'bad-empty',
        codec.encode('PubmedArticle', article('empty', '   ') as never),
        'operator',
        'EmptyAbstractError',
      ],
      ['bad-poison', codec.encode('PubmedArticle', article('poison') as never), 'operator', 'Error'],
    ];
    const jsonBad: Array<[string, Buffer, string, string]> = [
      [
        'bad-invalid-field',
        Buffer.from(JSON.stringify({ pmid: 123, title: null, abstract: 5 })),
        'decode',
        'DecodeError',
      ],
      [
        'bad-utf8',
        Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xa0, 0xa1, 0x22, 0x7d]),
        'decode',
        'InvalidUtf8Error',
      ],
    ];
    // Good records around every bad one.
    const avroMsgs = avroBad.flatMap(([key, value], i) => [
      { key: `good-a${i}`, value: good(i) },
      { key, value },
    ]);
    avroMsgs.push({ key: 'good-a-last', value: good(99) });
    const jsonMsgs = jsonBad.flatMap(([key, value], i) => [
      { key: `good-j${i}`, value: Buffer.from(JSON.stringify(article(`j${i}`))) },
      { key, value },
    ]);
    await produceRaw(broker.brokers, 'dl.avro', avroMsgs);
    await produceRaw(broker.brokers, 'dl.json', jsonMsgs);

    const deadLetters = new KafkaDeadLetters({ brokers: broker.brokers, topic: 'dl.dlq' });
    // One group per source: kafkajs' round-robin assignor ignores per-member subscriptions.
    const common = { brokers: broker.brokers, maxMessageBytes: 2048, deadLetters };
    const avroSource = new KafkaSource<Article>({
      ...common,
      id: 'avro-in',
      groupId: 'dl-avro',
      topics: ['dl.avro'],
      decode: (raw) => codec.decode(raw, 'PubmedArticle') as Article,
    });
    const jsonSource = new KafkaSource<Article>({
      ...common,
      id: 'json-in',
      groupId: 'dl-json',
      topics: ['dl.json'],
      text: true,
      decode: (raw) => codec.fromJson('PubmedArticle', JSON.parse(raw.toString('utf8'))) as Article,
    });
    const sink = new KafkaSink<Article>({
      brokers: broker.brokers,
      topic: 'dl.out',
      schema: 'bioaug.stream.PubmedArticle',
      encode: (v) => codec.encode('PubmedArticle', v as never),
    });
    class EmptyAbstractError extends Error {
      override name = 'EmptyAbstractError';
    }
    const run = runTopology({
      sources: { avro: avroSource, json: jsonSource },
      sinks: { out: sink },
      deadLetters,
      build: (s) =>
        merge(s.avro as Observable<Envelope<Article>>, s.json as Observable<Envelope<Article>>).pipe(
          mapStep('validate-abstract', (a: Article) => {
            if (a.abstract.trim() === '')
              throw new EmptyAbstractError(`article ${a.pmid} has an empty abstract`);
            return a;
          }),
          mapStep('poison-check', (a: Article) => {
            if (a.pmid === 'poison') throw new Error('operator failed on poison');
            return a;
          }),
          sink.write(),
        ),
      config: {},
      handleSignals: false,
    });
    const total = avroMsgs.length + jsonMsgs.length;
    await waitFor(
      () =>
        avroSource.stats.acked +
          avroSource.stats.deadLettered +
          jsonSource.stats.acked +
          jsonSource.stats.deadLettered >=
        total,
      60_000,
      'every record settled',
    );
    await run.stop();
    // Offsets advanced past every bad record.
    expect(await committedTotal(broker.brokers, 'dl-avro', 'dl.avro')).toBe(avroMsgs.length);
    expect(await committedTotal(broker.brokers, 'dl-json', 'dl.json')).toBe(jsonMsgs.length);

    const out = await readAll(broker.brokers, 'dl.out');
    const outKeys = out.map((r) => r.key).sort();
    const goodKeys = [...avroMsgs, ...jsonMsgs]
      .map((m) => m.key)
      .filter((k) => k.startsWith('good'))
      .sort();
    expect(outKeys).toEqual(goodKeys);
    expect(out[0]!.headers.schema).toBe('bioaug.stream.PubmedArticle');

    const dlq = await readAll(broker.brokers, 'dl.dlq');
    const byKey = new Map(dlq.map((r) => [r.key, r]));
    const expected = [
      ...avroBad.map((b) => [...b, 'dl.avro'] as const),
      ...jsonBad.map((b) => [...b, 'dl.json'] as const),
    ];
    for (const [key, raw, stage, errorClass, topic] of expected) {
      const r = byKey.get(key);
      expect(r, `dead letter for ${key}`).toBeDefined();
      const src = [...avroMsgs, ...jsonMsgs].find((m) => m.key === key)!;
      console.log(
        `DLQ ${key}: stage=${r!.headers['dlq.stage']} step=${r!.headers['dlq.step']} class=${r!.headers['dlq.error.class']} origin=${r!.headers['dlq.origin.topic']}/${r!.headers['dlq.origin.partition']}/${r!.headers['dlq.origin.offset']} msg="${r!.headers['dlq.error.message']!.slice(0, 80)}"`,
      );
      expect(r!.headers['dlq.stage']).toBe(stage);
      expect(r!.headers['dlq.error.class']).toBe(errorClass);
      expect(r!.headers['dlq.error.message']!.length).toBeGreaterThan(0);
      expect(r!.headers['dlq.step']!.length).toBeGreaterThan(0);
      expect(r!.headers['dlq.origin.topic']).toBe(topic);
      expect(r!.headers['dlq.origin.partition']).toBe('0');
      expect(Number(r!.headers['dlq.origin.offset'])).toBe(
        (topic === 'dl.avro' ? avroMsgs : jsonMsgs).findIndex((m) => m.key === key),
      );
      // Byte for byte, and a tombstone's dead letter is a tombstone (null), not an empty value.
      if (src.value === null) expect(r!.value).toBeNull();
      else expect(Buffer.compare(r!.value!, src.value as Buffer)).toBe(0);
      void raw;
    }
    expect(dlq.length).toBe(expected.length);
  }, 120_000);
});
