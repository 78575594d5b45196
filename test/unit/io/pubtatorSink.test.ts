import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope } from '../../../src/engine/envelope.ts';
import { openSink, serializerOf } from '../../../src/io/files/index.ts';
import { parsePubtator } from '../../../src/text/pubtator.ts';
import { tempDir } from '../../helpers/setup.ts';

const tmp = tempDir('pubtator-sink-');

const prediction = (index: number, entities: object[]): object => ({
  id: `123:${index}`,
  pmid: '123',
  sentenceIndex: index,
  entities,
});

describe('PubTator sink of non-article records', () => {
  it('writes NER predictions as annotation lines (concept id when known) and CID relations as relation lines', async () => {
    const out = join(tmp, 'preds.pubtator');
    const sink = openSink<object>(`pubtator:${out}`);
    const records = [
      prediction(0, [
        { start: 0, end: 10, text: 'Amiodarone', type: 'Chemical', score: 0.9, conceptId: 'D000638' },
        { start: 19, end: 38, text: 'thyroid dysfunction', type: 'Disease', score: 0.9, conceptId: null },
      ]),
      prediction(1, []),
      {
        sourceId: '123',
        relation: 'CID',
        head: { text: 'Amiodarone', type: 'Chemical', start: 0, end: 10, conceptId: 'D000638' },
        tail: { text: 'hypothyroidism', type: 'Disease', start: 50, end: 64, conceptId: 'D007037' },
        probability: 0.8,
      },
    ];
    await lastValueFrom(
      from(
        records.map((r, i) =>
          envelope(r, { origin: { kind: 'memory', source: 't', index: i }, ack: AckToken.noop() }),
        ),
      ).pipe(sink.write(), toArray()),
    );
    await sink.close();
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(
      '123\t0\t10\tAmiodarone\tChemical\tD000638\n' +
        '123\t19\t38\tthyroid dysfunction\tDisease\n' +
        '123\tCID\tD000638\tD007037\n',
    );
    expect(text).not.toContain('undefined');
  });

  it('still writes whole articles with their text lines, readable back', () => {
    const line = serializerOf('pubtator')({
      pmid: '7',
      title: 'T.',
      abstract: 'A b.',
      annotations: [{ start: 3, end: 4, text: 'A', type: 'Disease', conceptId: 'D1' }],
    });
    const doc = parsePubtator(line)[0]!;
    expect(doc).toMatchObject({ pmid: '7', title: 'T.', abstract: 'A b.' });
    expect(doc.annotations[0]).toMatchObject({ start: 3, end: 4, mention: 'A', id: 'D1' });
  });

  it('refuses a record it cannot represent with an error that names the way out', () => {
    expect(() => serializerOf('pubtator')({ id: 'x', tokens: ['a'] })).toThrow(/write it with jsonl:/);
  });
});
