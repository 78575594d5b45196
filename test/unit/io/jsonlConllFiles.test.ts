import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { AckToken, envelope, type Envelope } from '../../../src/engine/envelope.ts';
import { createCodec, DecodeError, type LabeledSentence } from '../../../src/io/avro/index.ts';
import { dataPath } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import {
  FileDeadLetterWriter,
  FileUriError,
  openDeadLetterWriter,
  openSink,
  openSource,
  parseFileUri,
} from '../../../src/io/files/index.ts';
import { logger } from '../../../src/obs/logger.ts';
import { CollectingDeadLetters, readAll } from './helpers.ts';
import { tempDir } from '../../helpers/setup.ts';

const tmp = tempDir('h2-files-');
const file = (name: string, content: string | Buffer): string => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};

describe('JSONL source', () => {
  it('emits one value per line and nacks invalid lines with their line number', async () => {
    const p = file(
      'a.jsonl',
      Buffer.concat([
        Buffer.from('{"id":"a","n":1}\n\n{"id":"b"\r\n{"pmid":"c"}\r\n'),
        Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
        Buffer.from('[1,2]'),
      ]),
    );
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(openSource(`jsonl:${p}`, { deadLetters: dlq }));
    expect(envs.map((e) => e.value)).toEqual([{ id: 'a', n: 1 }, { pmid: 'c' }, [1, 2]]);
    expect(envs.map((e) => e.key)).toEqual(['a', 'c', null]);
    expect(envs.map((e) => e.origin)).toMatchObject([{ line: 1 }, { line: 4 }, { line: 6 }]);
    expect(dlq.messages).toEqual([
      expect.stringMatching(/a\.jsonl line 3: invalid JSON/),
      expect.stringMatching(/a\.jsonl line 5: invalid UTF-8/),
    ]);
    expect(dlq.records[0]?.raw?.toString()).toBe('{"id":"b"');
    expect(dlq.records[1]?.raw).toEqual(
      Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
  });

  it('dead-letters a record nacked downstream with its raw line and origin', async () => {
    const p = file('nack.jsonl', '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n');
    const dlq = new CollectingDeadLetters();
    const src = openSource(`jsonl:${p}`, { deadLetters: dlq });
    await new Promise<void>((resolve, reject) =>
      src.open().subscribe({
        next: (e) => (e.key === 'b' ? e.ack.nack(new Error('model failed'), 'ner', 'ner-tag') : e.ack.ack()),
        error: reject,
        complete: resolve,
      }),
    );
    expect(src.stats).toMatchObject({ emitted: 3, acked: 2, failed: 1 });
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0]).toMatchObject({ key: 'b', origin: { kind: 'file', path: p, index: 1, line: 2 } });
    expect(dlq.records[0]?.raw?.toString()).toBe('{"id":"b"}');
    expect(dlq.records[0]?.failures[0]).toMatchObject({ stage: 'ner', stepId: 'ner-tag' });
  });

  it('validates lines against an Avro schema, naming the bad field', async () => {
    const codec = await createCodec();
    const p = file(
      's.jsonl',
      '{"pmid":"1","index":0,"start":0,"end":3,"text":"abc"}\n{"pmid":"2","index":"x"}\n',
    );
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(
      openSource(`jsonl:${p}`, {
        deadLetters: dlq,
        jsonl: { validate: (v) => codec.fromJson('Sentence', v) },
      }),
    );
    expect(envs).toHaveLength(1);
    expect(dlq.messages).toEqual([
      expect.stringMatching(/s\.jsonl line 2: Sentence: invalid field\(s\) index/),
    ]);
  });

  it('turns an over-long line into an error and goes on', async () => {
    const p = file('long.jsonl', `{"a":"${'x'.repeat(5000)}"}\n{"b":1}\n`);
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(openSource(`jsonl:${p}`, { deadLetters: dlq, jsonl: { maxLineBytes: 1000 } }));
    expect(envs.map((e) => e.value)).toEqual([{ b: 1 }]);
    expect(dlq.messages).toEqual([expect.stringMatching(/line 1: line longer than 1000 bytes/)]);
  });
});

const CONLL =
  '-DOCSTART-\tO\r\n\r\n' +
  'Famotidine\tB-Chemical  \r\n' +
  'induced\tO\r\n' +
  'delirium\tB-Disease \r\n' +
  '\r\n\r\n   \r\n' +
  'No  O\n' +
  'tabs   O\n' +
  '\n\n\n' +
  'bad\tO\textra\n' +
  'sentence\tO\tx\n' +
  '\n' +
  'wrong\tX-Tag\n' +
  '\n' +
  'last\tO';

describe('CoNLL source', () => {
  it('tolerates CRLF, blank runs, trailing spaces, space columns and -DOCSTART-, nacking bad sentences by line', async () => {
    const p = file('mini.conll', CONLL);
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(openSource<LabeledSentence>(`conll:${p}`, { deadLetters: dlq }));
    expect(envs.map((e) => e.value)).toEqual([
      {
        id: 'mini:0',
        tokens: ['Famotidine', 'induced', 'delirium'],
        tags: ['B-Chemical', 'O', 'B-Disease'],
        keywordTags: null,
        source: p,
      },
      { id: 'mini:1', tokens: ['No', 'tabs'], tags: ['O', 'O'], keywordTags: null, source: p },
      { id: 'mini:4', tokens: ['last'], tags: ['O'], keywordTags: null, source: p },
    ]);
    expect(envs[0]?.origin).toMatchObject({ line: 3 });
    expect(dlq.records.map((r) => r.key)).toEqual(['mini:2', 'mini:3']);
    expect(dlq.messages).toEqual([
      expect.stringMatching(/mini\.conll line 14: expected 2 columns \(token, tag\) or 4/),
      expect.stringMatching(/mini\.conll line 17: invalid tag "X-Tag"/),
    ]);
  });

  it('I-X not continuing an entity: repaired to B-X with one counted warning, or a dead letter with ?bio=strict', async () => {
    const p = file(
      'bio.conll',
      [
        'a\tO\nb\tI-Disease\nc\tI-Disease\n', // I-X after O
        'd\tB-Chemical\ne\tI-Disease\n', // I-X after B-Y
        'f\tB-Disease\ng\tI-Disease\n', // valid
        'h\tB-Foo-Bar\n', // malformed type: a dead letter in both modes
        'i\tI-Chemical\n', // I-X at the start
      ].join('\n'),
    );
    const warn = vi.spyOn(logger, 'warn');
    const dlq = new CollectingDeadLetters();
    try {
      const repaired = await readAll(openSource<LabeledSentence>(`conll:${p}`, { deadLetters: dlq }));
      expect(repaired.map((e) => e.value.tags)).toEqual([
        ['O', 'B-Disease', 'I-Disease'],
        ['B-Chemical', 'B-Disease'],
        ['B-Disease', 'I-Disease'],
        ['B-Chemical'],
      ]);
      expect(dlq.messages).toEqual([expect.stringMatching(/bio\.conll line 11: invalid tag "B-Foo-Bar"/)]);
      const warnings = warn.mock.calls.filter((c) => String(c[1]).includes('not continuing an entity'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]![0]).toMatchObject({ repaired: 3, firstLine: 2 });
      expect(String(warnings[0]![1])).toContain('?bio=strict');
    } finally {
      warn.mockRestore();
    }
    const strictDlq = new CollectingDeadLetters();
    const strict = await readAll(
      openSource<LabeledSentence>(`conll:${p}?bio=strict`, { deadLetters: strictDlq }),
    );
    expect(strict.map((e) => e.value.tags)).toEqual([['B-Disease', 'I-Disease']]);
    expect(strictDlq.records.map((r) => (r.origin.kind === 'file' ? r.origin.line : 0))).toEqual([
      1, 5, 11, 13,
    ]);
    expect(strictDlq.messages[0]).toMatch(
      /bio\.conll line 2: "I-Disease" does not continue an entity of its type \(after "O"\)/,
    );
    expect(strictDlq.messages[1]).toMatch(/line 6: "I-Disease" .*\(after "B-Chemical"\)/);
    expect(() => openSource(`conll:${p}?bio=lenient`)).toThrow(
      /unknown bio mode 'lenient'; valid: repair, strict/,
    );
    expect(() => openSource(`jsonl:${p}?bio=strict`)).toThrow(/applies to conll: sources only/);
  });

  it('reads 4-column keyword files into keywordTags', async () => {
    const p = file('kw.tsv', 'BRCA1\tO\tNOUN\tB\nis\tO\tAUX\tO\n\n');
    const envs = await readAll(openSource<LabeledSentence>(`conll:${p}`));
    expect(envs[0]?.value).toMatchObject({ id: 'kw:0', tokens: ['BRCA1', 'is'], keywordTags: ['B', 'O'] });
  });

  it('round-trips: write with the CoNLL sink, read back the same sentences', async () => {
    const sentences: LabeledSentence[] = [
      { id: 'x:0', tokens: ['a', 'b'], tags: ['B-Disease', 'I-Disease'], keywordTags: null, source: 's' },
      { id: 'x:1', tokens: ['c'], tags: ['O'], keywordTags: ['B'], source: 's' },
    ];
    const out = join(tmp, 'out', 'x.conll');
    const sink = openSink<LabeledSentence>(`conll:${out}`);
    await lastValueFrom(
      from(
        sentences.map((s, i) =>
          envelope(s, { origin: { kind: 'memory', source: 't', index: i }, ack: AckToken.noop() }),
        ),
      ).pipe(sink.write(), toArray()),
    );
    await sink.close();
    expect(readFileSync(out, 'utf8')).toBe('a\tB-Disease\nb\tI-Disease\n\nc\tO\t_\tB\n\n');
    const back = await readAll(openSource<LabeledSentence>(`conll:${out}`, { conll: { source: 's' } }));
    expect(back.map((e) => e.value)).toEqual(sentences);
  });
});

describe.skipIf(skipWithoutSharedData('CoNLL on the shared corpora'))('CoNLL on the shared corpora', () => {
  it('reads every NCBI dev sentence and the 4-column keyword file', async () => {
    const dlq = new CollectingDeadLetters();
    const ner = await readAll(
      openSource<LabeledSentence>(`conll:${dataPath('ner/ncbi/dev.conll')}`, { deadLetters: dlq }),
    );
    expect(dlq.messages).toEqual([]);
    expect(ner).toHaveLength(923);
    const kw = await readAll(
      openSource<LabeledSentence>(`conll:${dataPath('keywords/ncbi/dev.tsv')}`, { deadLetters: dlq }),
    );
    expect(dlq.messages).toEqual([]);
    expect(kw).toHaveLength(923);
    expect(kw.every((e) => e.value.keywordTags?.length === e.value.tokens.length)).toBe(true);
  });
});

describe('stdin/stdout and the URI factory', () => {
  it('reads stdin:<format> and writes stdout:<format>', async () => {
    const stdin = Readable.from([Buffer.from('{"id":"q"}\n{"id'), Buffer.from('":"r"}\n')]);
    const envs = await readAll(openSource('stdin:', { stdin }));
    expect(envs.map((e) => e.value)).toEqual([{ id: 'q' }, { id: 'r' }]);
    expect(envs[0]?.origin).toMatchObject({ kind: 'file', path: '-' });
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
    const sink = openSink('stdout:jsonl', { stdout });
    await lastValueFrom(
      from(envs.map((e) => ({ ...e, ack: AckToken.noop() }))).pipe(sink.write(), toArray()),
    );
    await sink.close();
    expect(chunks.join('')).toBe('{"id":"q"}\n{"id":"r"}\n');
    const conll = await readAll(
      openSource<LabeledSentence>('stdin:conll', { stdin: Readable.from(['a\tO\n\nb\tO\n']) }),
    );
    expect(conll.map((e) => e.value.tokens)).toEqual([['a'], ['b']]);
  });

  it('rejects bad URIs with errors listing the valid schemes', () => {
    expect(() => parseFileUri('csv:x.csv')).toThrow(
      /unknown scheme 'csv'.*valid: pubtator:<path>, pubmed-xml/,
    );
    expect(() => parseFileUri('kafka:topic')).toThrow(/opened by the Kafka source/);
    expect(() => parseFileUri('stdin:yaml')).toThrow(/valid formats: pubtator, pubmed-xml, jsonl, conll/);
    expect(() => parseFileUri('plainpath')).toThrow(FileUriError);
    expect(() => openSource(`jsonl:${join(tmp, 'missing.jsonl')}`)).toThrow(/no such file/);
    expect(() => openSink(`pubmed-xml:${join(tmp, 'o.xml')}`)).toThrow(/read-only/);
    expect(parseFileUri('stdout:pubtator')).toEqual({ format: 'pubtator', path: null, stdio: 'stdout' });
  });
});

describe('backpressure', () => {
  it('never has more than maxInFlight records unacked, and reads no further while they are held', async () => {
    const p = file(
      'many.jsonl',
      Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: String(i) })).join('\n'),
    );
    const src = openSource(`jsonl:${p}`, { maxInFlight: 7 });
    const held: Array<Envelope<unknown>> = [];
    let seen = 0;
    const done = new Promise<void>((resolve, reject) =>
      src.open().subscribe({
        next: (e) => {
          seen += 1;
          expect(src.currentInFlight).toBeLessThanOrEqual(7);
          held.push(e);
        },
        error: reject,
        complete: resolve,
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(7);
    // Release in bursts: the source follows the credits.
    while (seen < 5000) {
      for (const e of held.splice(0)) e.ack.ack();
      await new Promise((r) => setImmediate(r));
    }
    for (const e of held.splice(0)) e.ack.ack();
    await done;
    expect(src.stats).toMatchObject({ emitted: 5000, acked: 5000, peakInFlight: 7 });
  });

  it('stop() ends the stream early once in-flight records settle', async () => {
    const p = file('stop.jsonl', Array.from({ length: 100 }, (_, i) => `{"i":${i}}`).join('\n'));
    const src = openSource(`jsonl:${p}`, { maxInFlight: 10 });
    let n = 0;
    await new Promise<void>((resolve, reject) =>
      src.open().subscribe({
        next: (e) => {
          n += 1;
          if (n === 5) void src.stop();
          e.ack.ack();
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(n).toBeLessThan(100);
  });
});

describe('file dead-letter writer', () => {
  it('writes DeadLetter records as JSONL (raw base64, stage, step, error, origin) that the Avro codec accepts', async () => {
    const out = join(tmp, 'dlq.jsonl');
    const w = new FileDeadLetterWriter(out, () => 1234);
    const err = new DecodeError('unknown-schema-id', 'decode: unknown schema id 9');
    await w.write({
      raw: Buffer.from([0, 0, 0, 0, 9, 1]),
      key: 'k1',
      headers: { h: 'v' },
      origin: { kind: 'kafka', topic: 'pubmed.abstracts', partition: 2, offset: '41' },
      failures: [{ stage: 'decode', stepId: 'decode-abstracts', error: err }],
    });
    const p = file('dl-src.jsonl', '{"ok":1}\nnot json\n');
    await readAll(openSource(`jsonl:${p}`, { deadLetters: w }));
    await w.close();
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      raw: Buffer.from([0, 0, 0, 0, 9, 1]).toString('base64'),
      key: 'k1',
      stage: 'decode',
      step: 'decode-abstracts',
      errorClass: 'DecodeError',
      message: 'decode: unknown schema id 9',
      origin: { kind: 'kafka', topic: 'pubmed.abstracts', partition: 2, offset: '41' },
      timestamp: 1234,
    });
    expect(lines[1]).toMatchObject({
      raw: Buffer.from('not json').toString('base64'),
      stage: 'source',
      step: `jsonl:${p}`,
      errorClass: 'FileFormatError',
      origin: { kind: 'file', path: p, position: 1, line: 2 },
    });
    const viaUri = openDeadLetterWriter(`jsonl:${join(tmp, 'sub', 'dlq2.jsonl')}`);
    await viaUri.write({
      raw: null,
      key: null,
      headers: {},
      origin: { kind: 'memory', source: 'm', index: 0 },
      failures: [],
    });
    await viaUri.close();
    expect(readFileSync(join(tmp, 'sub', 'dlq2.jsonl'), 'utf8')).toContain('"stage":"unknown"');
    expect(() => openDeadLetterWriter('conll:x')).toThrow(/valid: jsonl:<path>, stdout:jsonl, stderr:/);
    // stderr: is a terminal's view: one line per dead letter; stderr:jsonl the whole record.
    const seen: string[] = [];
    const stderr = new PassThrough();
    stderr.on('data', (d: Buffer) => seen.push(d.toString()));
    const failure = {
      raw: Buffer.from('x'.repeat(5000)),
      key: 'k1',
      headers: {},
      origin: { kind: 'file' as const, path: '/in.jsonl', index: 6, line: 7 },
      failures: [
        { stage: 'operator', stepId: 'validate-article', error: new Error('article without a PMID') },
      ],
    };
    await openDeadLetterWriter('stderr:', { stderr }).write(failure);
    await openDeadLetterWriter('stderr:jsonl', { stderr }).write(failure);
    expect(seen[0]).toBe(
      'dead letter: /in.jsonl:7 key "k1": operator/validate-article: Error: article without a PMID\n',
    );
    expect(JSON.parse(seen[1]!)).toMatchObject({
      key: 'k1',
      step: 'validate-article',
      raw: expect.any(String),
    });
    const codec = await createCodec();
    for (const l of lines) {
      const v = codec.fromJson('DeadLetter', { ...l, raw: Buffer.from(l.raw as string, 'base64') });
      expect(() => codec.encode('DeadLetter', v)).not.toThrow();
    }
  });
});
