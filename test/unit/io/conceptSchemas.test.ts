// Schema evolution of issue 13: NerPrediction v3 (entity conceptId/conceptScore) and RelationTriple v2
// (argument conceptId, evidence). Old readers read new data, new readers read old data.
import { describe, expect, it } from 'vitest';
import {
  createCodec,
  loadHistory,
  loadSchemas,
  readSchemaIds,
  typeOf,
  type SchemaName,
} from '../../../src/io/avro/index.ts';
import type { NerPrediction, RelationTriple } from '../../../src/io/avro/types.generated.ts';

const prediction: NerPrediction = {
  id: '1:0',
  pmid: '1',
  sentenceIndex: 0,
  sentenceStart: 0,
  sentenceEnd: 17,
  tokens: ['Lithium', 'toxicity', '.'],
  tokenStarts: [0, 8, 16],
  tokenEnds: [7, 16, 17],
  tags: ['B-Chemical', 'O', 'O'],
  entities: [
    {
      start: 0,
      end: 7,
      text: 'Lithium',
      type: 'Chemical',
      score: 0.98,
      conceptId: 'D008094',
      conceptScore: 0.97,
    },
  ],
  tokenScores: [0.98, 0.9, 0.99],
  modelId: 'ner-bc5cdr',
  createdAt: 1,
};

const cid: RelationTriple = {
  sourceId: '1',
  head: { text: 'Lithium', type: 'Chemical', start: 0, end: 7, conceptId: 'D008094' },
  relation: 'CID',
  tail: { text: 'toxicity', type: 'Disease', start: 8, end: 16, conceptId: 'D064420' },
  probability: 0.8,
  modelId: 'cid-relations',
  evidence: [{ headSentence: 0, headStart: 0, headEnd: 7, tailSentence: 0, tailStart: 8, tailEnd: 16 }],
  createdAt: 2,
};

function history(file: string) {
  const h = loadHistory().find((s) => s.file.endsWith(file));
  if (!h) throw new Error(`no history entry ${file}`);
  const entry = readSchemaIds().entries.find((e) => e.name === h.name && e.fingerprint === h.fingerprint);
  if (!entry) throw new Error(`no schema id for ${file}`);
  return { ...h, id: entry.id };
}

const current = (name: SchemaName) => loadSchemas().get(name)!.type;

function wire(id: number, body: Buffer): Buffer {
  const w = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  w.writeUInt32BE(id, 1);
  return w;
}

describe('NerPrediction v3 (concept ids)', () => {
  it('a new reader reads v2 data: conceptId null, conceptScore 0', async () => {
    const codec = await createCodec();
    const v2 = history('NerPrediction.v2.avsc');
    expect(v2.id).not.toBe(codec.schemaId('NerPrediction'));
    const old = {
      ...prediction,
      entities: prediction.entities.map(({ conceptId: _c, conceptScore: _s, ...e }) => e),
    };
    const read = codec.decode(wire(v2.id, typeOf(v2.json).toBuffer(old)), 'NerPrediction');
    expect(read.entities[0]).toMatchObject({
      text: 'Lithium',
      score: 0.98,
      conceptId: null,
      conceptScore: 0,
    });
  });

  it('an old (v2) reader reads v3 data, ignoring the new fields', async () => {
    const codec = await createCodec();
    const v2 = history('NerPrediction.v2.avsc');
    const bytes = codec.encode('NerPrediction', prediction).subarray(5);
    const oldReader = typeOf(v2.json);
    const read = oldReader.fromBuffer(bytes, oldReader.createResolver(current('NerPrediction')));
    expect(read.entities[0]).toEqual({ start: 0, end: 7, text: 'Lithium', type: 'Chemical', score: 0.98 });
  });
});

describe('RelationTriple v2 (concept ids, evidence)', () => {
  it('new data round-trips; a v1 reader reads it; v1 data reads back with conceptId null and no evidence', async () => {
    const codec = await createCodec();
    const back = codec.decode(codec.encode('RelationTriple', cid), 'RelationTriple');
    expect(back).toEqual(cid);
    const v1 = history('RelationTriple.v1.avsc');
    const oldReader = typeOf(v1.json);
    const asOld = oldReader.fromBuffer(
      codec.encode('RelationTriple', cid).subarray(5),
      oldReader.createResolver(current('RelationTriple')),
    );
    expect(asOld.head).toEqual({ text: 'Lithium', type: 'Chemical', start: 0, end: 7 });
    expect(asOld.evidence).toBeUndefined();
    const { evidence: _e, ...rest } = cid;
    const old = {
      ...rest,
      head: { ...rest.head, conceptId: undefined },
      tail: { ...rest.tail, conceptId: undefined },
    };
    const read = codec.decode(wire(v1.id, oldReader.toBuffer(old)), 'RelationTriple');
    expect(read.head.conceptId).toBeNull();
    expect(read.evidence).toEqual([]);
  });
});
