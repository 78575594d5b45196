// Schema evolution of issue 17: AugmentedSentence v2 (meanLogProb, taggerAgreement, quality,
// rejectReason). Old readers read new data, new readers read old data.
import { describe, expect, it } from 'vitest';
import { createCodec, loadHistory, loadSchemas, readSchemaIds, typeOf } from '../../../src/io/avro/index.ts';
import type { AugmentedSentence } from '../../../src/io/avro/types.generated.ts';

const record: AugmentedSentence = {
  id: 'ncbi:1:bioaug:0',
  sourceId: 'ncbi:1',
  method: 'bioaug',
  seed: 1,
  modelId: 'generator',
  tokens: ['APC2', 'is', 'a', 'homologue', '.'],
  tags: ['B-Disease', 'O', 'O', 'O', 'O'],
  valid: true,
  newTokenShare: 0.2,
  lengthDiff: -1,
  generatedText: '<b-disease> APC2 <b-disease> is a homologue.',
  createdAt: 7,
  meanLogProb: -0.5,
  taggerAgreement: 1,
  quality: 0.5,
  rejectReason: null,
};

function v1() {
  const h = loadHistory().find((s) => s.file.endsWith('AugmentedSentence.v1.avsc'));
  if (!h) throw new Error('no history entry AugmentedSentence.v1.avsc');
  const entry = readSchemaIds().entries.find((e) => e.name === h.name && e.fingerprint === h.fingerprint);
  if (!entry) throw new Error('no schema id for AugmentedSentence v1');
  return { ...h, id: entry.id };
}

function wire(id: number, body: Buffer): Buffer {
  const w = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  w.writeUInt32BE(id, 1);
  return w;
}

describe('AugmentedSentence v2 (quality scores)', () => {
  it('new data round-trips with every score', async () => {
    const codec = await createCodec();
    expect(codec.decode(codec.encode('AugmentedSentence', record), 'AugmentedSentence')).toEqual(record);
  });

  it('a new reader reads v1 data: scores null (not scored), rejectReason null', async () => {
    const codec = await createCodec();
    const old = v1();
    expect(old.id).not.toBe(codec.schemaId('AugmentedSentence'));
    const { meanLogProb: _m, taggerAgreement: _t, quality: _q, rejectReason: _r, ...v1Record } = record;
    const read = codec.decode(wire(old.id, typeOf(old.json).toBuffer(v1Record)), 'AugmentedSentence');
    expect(read).toEqual({
      ...v1Record,
      meanLogProb: null,
      taggerAgreement: null,
      quality: null,
      rejectReason: null,
    });
  });

  it('an old (v1) reader reads v2 data, ignoring the new fields', async () => {
    const codec = await createCodec();
    const oldReader = typeOf(v1().json);
    const bytes = codec
      .encode('AugmentedSentence', { ...record, valid: false, rejectReason: 'top-k' })
      .subarray(5);
    const read = oldReader.fromBuffer(
      bytes,
      oldReader.createResolver(loadSchemas().get('AugmentedSentence')!.type),
    ) as Record<string, unknown>;
    expect(read).toMatchObject({ id: record.id, tokens: record.tokens, valid: false, newTokenShare: 0.2 });
    expect(Object.keys(read)).not.toContain('quality');
  });

  it('documents every field', () => {
    const schema = loadSchemas().get('AugmentedSentence')!.json as {
      fields: Array<{ name: string; doc?: string }>;
    };
    const undocumented = schema.fields.filter((f) => !f.doc);
    expect(undocumented.map((f) => f.name)).toEqual([]);
  });
});
