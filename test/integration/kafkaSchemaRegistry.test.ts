// The Kafka source against a schema registry: a schema id registered after the worker started (an
// upgraded producer writing a newer, compatible PubmedArticle) is fetched and decoded, not
// dead-lettered as unknown; an id the registry does not know is a dead letter, looked up once.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { produceRaw, waitFor } from '../helpers/kafkaData.ts';
import { MemoryDeadLetters } from '../../src/engine/deadLetters.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { createCodec, loadSchemas, typeOf } from '../../src/io/avro/index.ts';
import { openSourceUri } from '../../src/io/wiring.ts';
import type { PubmedArticle } from '../../src/io/avro/types.generated.ts';
import { useTestBroker } from '../helpers/setup.ts';

const broker = useTestBroker();
let server: Server;
let url = '';
const byId = new Map<number, string>();
/** GET /schemas/ids/<id> requests, by id. */
const lookups = new Map<number, number>();

beforeAll(async () => {
  await broker.createTopic('sr.abstracts', 1);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
      const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(req.url ?? '')) {
        const schema = (JSON.parse(body) as { schema: string }).schema;
        let id = [...byId].find(([, s]) => s === schema)?.[0];
        if (id === undefined) {
          id = 100 + byId.size;
          byId.set(id, schema);
        }
        return res.end(JSON.stringify({ id }));
      }
      if (get) {
        const id = Number(get[1]);
        lookups.set(id, (lookups.get(id) ?? 0) + 1);
        if (byId.has(id)) return res.end(JSON.stringify({ schema: byId.get(id) }));
      }
      // Subjects have no version list here: the codec learns nothing more at start.
      res.statusCode = 404;
      res.end(JSON.stringify({ error_code: 40403, message: 'not found' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
});

describe('Kafka source with a schema registry', () => {
  it('decodes records whose schema id was registered after start; unknown ids are dead letters, looked up once', async () => {
    const codec = await createCodec({ registryUrl: url });
    const deadLetters = new MemoryDeadLetters();
    const source = openSourceUri(
      'kafka:sr.abstracts?schema=PubmedArticle',
      {
        connection: { brokers: broker.brokers },
        groupId: 'sr-late-ids',
        fromBeginning: true,
        maxInFlight: 100,
        maxMessageBytes: 1_048_576,
        codec,
        deadLetters,
      },
      'sr-in',
    );
    const got: PubmedArticle[] = [];
    const sub: Subscription = source.open().subscribe({
      next: (e) => {
        got.push((e as Envelope<PubmedArticle>).value);
        e.ack.ack();
      },
    });
    try {
      const article = (pmid: string): PubmedArticle => ({
        pmid,
        title: `T${pmid}`,
        abstract: `Abstract ${pmid}.`,
        journal: null,
        year: 2024,
        mesh: [],
        annotations: [],
        relations: [],
      });
      await produceRaw(broker.brokers, 'sr.abstracts', [
        { key: '1', value: codec.encode('PubmedArticle', article('1')) },
      ]);
      await waitFor(() => got.length === 1, 30_000, 'the first record');

      // Now an upgraded producer registers PubmedArticle with one more field (defaulted: compatible).
      const current = loadSchemas().get('PubmedArticle')!.json as { fields: unknown[] };
      const newer = {
        ...current,
        fields: [...current.fields, { name: 'source', type: 'string', default: 'pubmed' }],
      };
      const newerId = 100 + byId.size;
      byId.set(newerId, JSON.stringify(newer));
      const wire = (id: number, body: Buffer): Buffer => {
        const h = Buffer.from([0, 0, 0, 0, 0]);
        h.writeUInt32BE(id, 1);
        return Buffer.concat([h, body]);
      };
      const newerBody = typeOf(newer).toBuffer({ ...article('2'), source: 'pmc' });
      await produceRaw(broker.brokers, 'sr.abstracts', [
        { key: '2', value: wire(newerId, newerBody) },
        { key: '3', value: wire(newerId, typeOf(newer).toBuffer({ ...article('3'), source: 'x' })) },
        // Ids the registry does not know: dead letters, one lookup for all of them.
        ...[4, 5, 6, 7].map((k) => ({ key: String(k), value: wire(99_999, newerBody) })),
        { key: '8', value: codec.encode('PubmedArticle', article('8')) },
      ]);
      await waitFor(() => got.length === 4 && deadLetters.records.length === 4, 30_000, 'the rest');
      expect(got.map((a) => a.pmid)).toEqual(['1', '2', '3', '8']);
      expect(got[1]).toEqual(article('2'));
      expect(deadLetters.records.map((r) => r.key)).toEqual(['4', '5', '6', '7']);
      expect(deadLetters.records[0]!.dlqHeaders['dlq.error.message']).toBe(
        'decode: unknown schema id 99999 (not in the registry)',
      );
      expect(lookups.get(newerId)).toBe(1);
      expect(lookups.get(99_999)).toBe(1);
    } finally {
      sub.unsubscribe();
      await source.stop();
    }
  }, 120_000);
});
