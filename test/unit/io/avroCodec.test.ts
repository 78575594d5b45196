import { mkdtempSync, readFileSync, writeFileSync, cpSync, symlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCodec,
  DecodeError,
  EncodeError,
  SCHEMA_NAMES,
  loadHistory,
  loadSchemas,
  readSchemaIds,
  typeOf,
  type Codec,
  type SchemaInputs,
  type SchemaName,
} from '../../../src/io/avro/index.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';

const samples: { [N in SchemaName]: SchemaInputs[N] } = {
  PubmedArticle: {
    pmid: '6794356',
    title: 'Lithium toxicity.',
    abstract: 'A newborn with lithium toxicity.',
    journal: 'Am J Dis Child',
    year: 1981,
    mesh: ['Lithium'],
    annotations: [
      { start: 0, end: 7, text: 'Lithium', type: 'Chemical', conceptId: 'D008094', extra: ['x|y'] },
    ],
    relations: [{ type: 'CID', arg1: 'D008094', arg2: 'D064420' }],
  },
  Sentence: { pmid: '1', index: 0, start: 0, end: 17, text: 'Lithium toxicity.' },
  NerPrediction: {
    id: '1:0',
    pmid: '1',
    sentenceIndex: 0,
    sentenceStart: 0,
    sentenceEnd: 17,
    tokens: ['Lithium', 'toxicity', '.'],
    tokenStarts: [0, 8, 16],
    tokenEnds: [7, 16, 17],
    tags: ['B-Chemical', 'B-Disease', 'O'],
    entities: [
      {
        start: 0,
        end: 7,
        text: 'Lithium',
        type: 'Chemical',
        score: 0.98,
        conceptId: 'D008094',
        conceptScore: 0.9,
      },
    ],
    tokenScores: [0.98, 0.9, 0.99],
    modelId: 'ner-small@1',
    createdAt: 1_700_000_000_000,
  },
  RelationTriple: {
    sourceId: '1:0',
    head: { text: 'lithium', type: 'Chemical', start: 0, end: 7, conceptId: null },
    relation: 'causes',
    tail: { text: 'toxicity', type: 'Disease', start: 8, end: 16, conceptId: null },
    probability: 0.75,
    modelId: 'rel@1',
    evidence: [],
    createdAt: 5,
  },
  LabeledSentence: {
    id: 'ncbi:1',
    tokens: ['a', 'b'],
    tags: ['O', 'B-Disease'],
    keywordTags: ['O', 'O'],
    source: 'x',
  },
  AugmentedSentence: {
    id: 'ncbi:1:sr:0',
    sourceId: 'ncbi:1',
    method: 'sr',
    seed: 42,
    modelId: null,
    tokens: ['a', 'c'],
    tags: ['O', 'B-Disease'],
    valid: true,
    newTokenShare: 0.5,
    lengthDiff: 0,
    generatedText: null,
    createdAt: 6,
    meanLogProb: null,
    taggerAgreement: 0.5,
    quality: 0.5,
    rejectReason: null,
  },
  TrainingPair: { sourceId: '1:0', input: '<mask> toxicity', target: 'lithium toxicity' },
  DeadLetter: {
    raw: Buffer.from([1, 2, 3]),
    key: 'k',
    headers: { stage: 'decode' },
    stage: 'decode',
    step: 'decode-abstracts',
    errorClass: 'DecodeError',
    message: 'boom',
    origin: { kind: 'kafka', topic: 't', partition: 0, offset: '12', path: null, position: null, line: null },
    failures: [],
    timestamp: 1,
  },
};

describe('avro codec (local schema ids)', () => {
  let codec: Codec;
  beforeAll(async () => {
    codec = await createCodec();
  });

  it('round-trips a sample of every schema in Confluent wire format', () => {
    for (const name of SCHEMA_NAMES) {
      const buf = codec.encode(name, samples[name] as never);
      expect(buf[0]).toBe(0);
      expect(buf.readUInt32BE(1)).toBe(codec.schemaId(name));
      expect(buf.subarray(5).equals(codec.type(name).toBuffer(samples[name]))).toBe(true);
      expect(codec.schemaOf(buf)).toBe(name);
      const back = codec.decode(buf, name);
      expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(samples[name])));
    }
  });

  it('fills schema defaults for omitted fields', () => {
    const buf = codec.encode('LabeledSentence', { id: 'x', tokens: ['a'], tags: ['O'] });
    expect(codec.decode(buf, 'LabeledSentence')).toMatchObject({ keywordTags: null, source: '' });
  });

  it('gives every schema a distinct id from schemas/schema-ids.json', () => {
    const ids = SCHEMA_NAMES.map((n) => codec.schemaId(n));
    expect(new Set(ids).size).toBe(ids.length);
    const file = readSchemaIds();
    for (const n of SCHEMA_NAMES) expect(file.entries.find((e) => e.id === codec.schemaId(n))?.name).toBe(n);
  });

  it('rejects invalid field values before encoding, naming the path', () => {
    const bad = { ...samples.Sentence, start: 'zero' } as unknown as SchemaInputs['Sentence'];
    expect(() => codec.encode('Sentence', bad)).toThrow(EncodeError);
    expect(() => codec.encode('Sentence', bad)).toThrow(/start/);
    expect(
      codec.validate('NerPrediction', { ...samples.NerPrediction, entities: [{ start: 1 }] }).paths,
    ).toEqual(expect.arrayContaining(['entities.0.end']));
    expect(() => codec.encode('Nope' as SchemaName, {} as never)).toThrow(/valid: PubmedArticle, Sentence/);
  });

  const kindOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).retriable).toBe(false);
      return (e as DecodeError).kind;
    }
    return undefined;
  };

  it('classifies bad bytes as undecodable', () => {
    const good = codec.encode('Sentence', samples.Sentence);
    expect(kindOf(() => codec.decode(Buffer.from([0, 0])))).toBe('undecodable');
    expect(kindOf(() => codec.decode(Buffer.from('{"json": true}')))).toBe('undecodable');
    expect(kindOf(() => codec.decode(good.subarray(0, good.length - 3)))).toBe('undecodable');
    expect(kindOf(() => codec.decode(Buffer.concat([good, Buffer.from([7, 7])])))).toBe('undecodable');
  });

  it('classifies an unknown schema id', () => {
    const buf = codec.encode('Sentence', samples.Sentence);
    buf.writeUInt32BE(999_999, 1);
    expect(kindOf(() => codec.decode(buf))).toBe('unknown-schema-id');
  });

  it('classifies a message of another schema as wrong-schema', () => {
    const buf = codec.encode('TrainingPair', samples.TrainingPair);
    expect(kindOf(() => codec.decode(buf, 'Sentence'))).toBe('wrong-schema');
  });

  it('classifies invalid UTF-8 in a string as invalid-field, but keeps genuine U+FFFD', () => {
    const buf = codec.encode('TrainingPair', { sourceId: 'a', input: 'caf\u00e9', target: 't' });
    const at = buf.indexOf(0xc3);
    buf[at] = 0xff;
    let err: DecodeError | undefined;
    try {
      codec.decode(buf, 'TrainingPair');
    } catch (e) {
      err = e as DecodeError;
    }
    expect(err?.kind).toBe('invalid-field');
    expect(err?.paths).toEqual(['input']);
    const ok = codec.encode('TrainingPair', { sourceId: 'a', input: 'x\uFFFDy', target: 't' });
    expect(codec.decode(ok, 'TrainingPair').input).toBe('x\uFFFDy');
  });

  it('fromJson fills defaults and rejects bad JSON values with paths', () => {
    const v = codec.fromJson('PubmedArticle', { pmid: '1', title: 't', abstract: 'a' });
    expect(v.annotations).toEqual([]);
    expect(v.journal).toBeNull();
    let err: DecodeError | undefined;
    try {
      codec.fromJson('PubmedArticle', { pmid: 1, title: 't', abstract: 'a' });
    } catch (e) {
      err = e as DecodeError;
    }
    expect(err?.kind).toBe('invalid-field');
    expect(err?.message).toMatch(/pmid/);
  });
});

describe('schema evolution', () => {
  it('a reader on NerPrediction v2 reads data written with v1 (resolver fills tokenScores)', async () => {
    const codec = await createCodec();
    const v1 = loadHistory().find((s) => s.file.endsWith('NerPrediction.v1.avsc'));
    expect(v1).toBeDefined();
    const entry = readSchemaIds().entries.find(
      (e) => e.name === 'NerPrediction' && e.fingerprint === v1!.fingerprint,
    );
    expect(entry).toBeDefined();
    expect(entry!.id).not.toBe(codec.schemaId('NerPrediction'));
    const { tokenScores: _drop, ...old } = samples.NerPrediction;
    const body = typeOf(v1!.json).toBuffer(old);
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
    wire.writeUInt32BE(entry!.id, 1);
    const read = codec.decode(wire, 'NerPrediction');
    expect(read.tokenScores).toEqual([]);
    expect(read.tokens).toEqual(old.tokens);
    expect(read.entities[0]?.score).toBe(0.98);
  });

  it('PubmedArticle written with v1 (no GoldAnnotation.extra) reads back with extra = []', async () => {
    const codec = await createCodec();
    const v1 = loadHistory().find((s) => s.file.endsWith('PubmedArticle.v1.avsc'))!;
    const entry = readSchemaIds().entries.find(
      (e) => e.name === 'PubmedArticle' && e.fingerprint === v1.fingerprint,
    )!;
    const old = {
      ...samples.PubmedArticle,
      annotations: [{ start: 0, end: 7, text: 'Lithium', type: 'Chemical', conceptId: null }],
    };
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), typeOf(v1.json).toBuffer(old)]);
    wire.writeUInt32BE(entry.id, 1);
    expect(codec.decode(wire, 'PubmedArticle').annotations[0]).toMatchObject({ text: 'Lithium', extra: [] });
  });

  it('every current schema resolves data written with every kept history version', () => {
    const current = loadSchemas();
    for (const h of loadHistory()) {
      const reader = current.get(h.name)!;
      expect(() => reader.type.createResolver(h.type)).not.toThrow();
    }
  });
});

describe('gen:types', () => {
  it('--check passes on the committed files and fails when they are stale', () => {
    const run = (cwd: string): number => {
      try {
        execFileSync(process.execPath, ['--import', 'tsx', 'src/io/avro/genTypes.ts', '--check'], {
          cwd,
          stdio: 'pipe',
        });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(run(projectRoot)).toBe(0);
    // A copy of the project whose schema gained a field must fail the check.
    const dir = mkdtempSync(join(tmpdir(), 'h2-gentypes-'));
    for (const p of ['schemas', 'src/io', 'package.json', '.prettierrc.json']) {
      cpSync(join(projectRoot, p), join(dir, p), { recursive: true });
    }
    symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
    const f = join(dir, 'schemas/TrainingPair.avsc');
    const json = JSON.parse(readFileSync(f, 'utf8'));
    json.fields.push({ name: 'extra', type: 'string', default: '' });
    writeFileSync(f, JSON.stringify(json));
    try {
      expect(run(dir)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('avro codec with a schema registry', () => {
  // A minimal in-process HTTP server speaking the two Confluent REST calls the codec uses.
  let server: Server;
  let url = '';
  const byId = new Map<number, string>();
  const subjects = new Map<string, number[]>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const reg = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
        const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
        const list = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
        const version = /^\/subjects\/([^/]+)\/versions\/(\d+)$/.exec(req.url ?? '');
        res.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
        if (req.method === 'POST' && reg) {
          const schema = (JSON.parse(body) as { schema: string }).schema;
          let id = [...byId].find(([, s]) => s === schema)?.[0];
          if (id === undefined) {
            id = 100 + byId.size;
            byId.set(id, schema);
          }
          const subject = decodeURIComponent(reg[1] as string);
          const ids = subjects.get(subject) ?? [];
          if (!ids.includes(id)) ids.push(id);
          subjects.set(subject, ids);
          res.end(JSON.stringify({ id }));
        } else if (req.method === 'GET' && list && subjects.has(decodeURIComponent(list[1] as string))) {
          res.end(JSON.stringify(subjects.get(decodeURIComponent(list[1] as string))!.map((_, i) => i + 1)));
        } else if (req.method === 'GET' && version) {
          const id = subjects.get(decodeURIComponent(version[1] as string))?.[Number(version[2]) - 1];
          res.end(JSON.stringify({ id, version: Number(version[2]), schema: id && byId.get(id) }));
        } else if (get && byId.has(Number(get[1]))) {
          res.end(JSON.stringify({ schema: byId.get(Number(get[1])) }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('registers the schemas, encodes with registry ids and decodes ids learned later', async () => {
    const a = await createCodec({ registryUrl: url });
    expect(a.schemaId('Sentence')).toBeGreaterThanOrEqual(100);
    const buf = a.encode('Sentence', samples.Sentence);
    // A second codec knows the id from its own registration; an id registered only by others is fetched.
    const v1 = loadHistory().find((s) => s.file.endsWith('NerPrediction.v1.avsc'))!;
    const idV1 = 100 + byId.size;
    byId.set(idV1, JSON.stringify(v1.json));
    const b = await createCodec({ registryUrl: url });
    expect(b.decode(buf, 'Sentence')).toMatchObject({ text: 'Lithium toxicity.' });
    const { tokenScores: _drop, ...old } = samples.NerPrediction;
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), typeOf(v1.json).toBuffer(old)]);
    wire.writeUInt32BE(idV1, 1);
    expect(() => b.decode(wire)).toThrow(DecodeError);
    expect(((await b.decodeAsync(wire, 'NerPrediction')) as { tokenScores: number[] }).tokenScores).toEqual(
      [],
    );
    const unknown = Buffer.from(wire);
    unknown.writeUInt32BE(99_999, 1);
    await expect(b.decodeAsync(unknown)).rejects.toMatchObject({ kind: 'unknown-schema-id' });
    // Once the old version is registered under the subject, a new codec decodes it synchronously.
    subjects.get('bioaug.stream.NerPrediction')!.unshift(idV1);
    const c = await createCodec({ registryUrl: url });
    expect(c.decode(wire, 'NerPrediction').tokenScores).toEqual([]);
  });
});
