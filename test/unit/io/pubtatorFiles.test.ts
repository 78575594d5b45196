import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckToken, envelope } from '../../../src/engine/envelope.ts';
import type { PubmedArticle } from '../../../src/io/avro/index.ts';
import { createCodec } from '../../../src/io/avro/index.ts';
import { dataPath, projectRoot } from '../../../src/io/dataPath.ts';
import { skipWithoutSharedData } from '../../helpers/sharedData.ts';
import { openSink, openSource } from '../../../src/io/files/index.ts';
import { CollectingDeadLetters, readAll } from './helpers.ts';
import { tempDir } from '../../helpers/setup.ts';

const fixture = (f: string): string => resolve(projectRoot, 'test/fixtures/io', f);
const tmp = tempDir('h2-pubtator-');

describe('PubTator source', () => {
  it('reads documents with gold annotations and relations, offsets matching title + " " + abstract', async () => {
    const src = openSource<PubmedArticle>(`pubtator:${fixture('sample.pubtator')}`);
    const envs = await readAll(src);
    expect(envs.map((e) => e.key)).toEqual(['100', '200']);
    const [a, b] = envs.map((e) => e.value) as [PubmedArticle, PubmedArticle];
    expect(a.title).toBe('Lithium carbonate toxicity in a newborn.');
    expect(a.annotations).toHaveLength(4);
    expect(a.annotations[2]).toEqual({
      start: 56,
      end: 80,
      text: 'congestive heart failure',
      type: 'Disease',
      conceptId: 'D006333',
      extra: [],
    });
    expect(a.relations).toEqual([{ type: 'CID', arg1: 'D016651', arg2: 'D064420' }]);
    const doc = `${b.title} ${b.abstract}`;
    for (const m of b.annotations) expect(doc.slice(m.start, m.end)).toBe(m.text);
    expect(b.abstract).toBe('');
    expect(envs[1]?.origin).toMatchObject({ kind: 'file', index: 1, line: 10 });
    expect(src.stats).toMatchObject({ emitted: 2, acked: 2, failed: 0 });
  });

  it('reads the same articles from a CRLF, gzip-compressed copy', async () => {
    const text = readFileSync(fixture('sample.pubtator'), 'utf8');
    const p = join(tmp, 'crlf.pubtator.gz');
    writeFileSync(p, gzipSync(text.replaceAll('\n', '\r\n')));
    const a = (await readAll(openSource<PubmedArticle>(`pubtator:${fixture('sample.pubtator')}`))).map(
      (e) => e.value,
    );
    const b = (await readAll(openSource<PubmedArticle>(`pubtator:${p}`))).map((e) => e.value);
    expect(b).toEqual(a);
  });

  it('sends bad documents to the dead letters with line numbers and keeps the good ones', async () => {
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(
      openSource<PubmedArticle>(`pubtator:${fixture('bad.pubtator')}`, { deadLetters: dlq }),
    );
    expect(envs.map((e) => e.key)).toEqual(['300', '303']);
    expect(dlq.records.map((r) => r.key)).toEqual(['301', '302']);
    expect(dlq.messages[0]).toMatch(/bad\.pubtator line 6: mention "Xyz" does not match/);
    expect(dlq.messages[1]).toMatch(/bad\.pubtator line 10: expected 4 columns .* got 2/);
    expect(dlq.records[0]?.raw?.toString()).toContain('301|t|Bad offsets.');
    expect(dlq.records[0]?.origin).toMatchObject({ kind: 'file', line: 4 });
    expect(dlq.records[0]?.failures[0]).toMatchObject({ stage: 'source' });
  });

  it('an undecodable line dead-letters its document with all its bytes, origin at the first line', async () => {
    const lines: Array<string | Buffer> = [
      '1|t|Good one.',
      '1|a|Fine.',
      '',
      Buffer.from([...Buffer.from('2|t|Bad '), 0xff, ...Buffer.from(' title.')]),
      '2|a|Abstract two.',
      '',
      '3|t|Title three.',
      Buffer.from([...Buffer.from('3|a|Bad '), 0xc3, 0x28, ...Buffer.from(' abstract.')]),
      // No blank line before the next document, nor before the undecodable title after it.
      '4|t|Four.',
      '4|a|Four abstract.',
      Buffer.from([...Buffer.from('6|t|Bad '), 0xfe, ...Buffer.from(' six.')]),
      '6|a|Six abstract.',
    ];
    const bytes = Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from('\n')]));
    const p = join(tmp, 'bad-utf8.pubtator');
    writeFileSync(p, bytes);
    const dlq = new CollectingDeadLetters();
    const envs = await readAll(openSource<PubmedArticle>(`pubtator:${p}`, { deadLetters: dlq }));
    expect(envs.map((e) => e.key)).toEqual(['1', '4']);
    expect(dlq.records.map((r) => [r.key, r.origin.kind === 'file' ? r.origin.line : -1])).toEqual([
      ['2', 4],
      ['3', 7],
      ['6', 11],
    ]);
    expect(dlq.messages[0]).toMatch(/bad-utf8\.pubtator line 4: invalid UTF-8/);
    expect(dlq.messages[1]).toMatch(/bad-utf8\.pubtator line 8: invalid UTF-8/);
    expect(dlq.messages[2]).toMatch(/bad-utf8\.pubtator line 11: invalid UTF-8/);
    // The raw record is the document's bytes as read, the undecodable ones included.
    const doc = (from: number, to: number) =>
      Buffer.concat(
        lines.slice(from, to).flatMap((l, i) => (i ? [Buffer.from('\n'), Buffer.from(l)] : [Buffer.from(l)])),
      );
    expect(dlq.records[0]!.raw!.equals(doc(3, 5))).toBe(true);
    expect(dlq.records[1]!.raw!.equals(doc(6, 8))).toBe(true);
    expect(dlq.records[2]!.raw!.equals(doc(10, 12))).toBe(true);
  });

  it('round-trips: write with the PubTator sink, read back the same articles', async () => {
    const original = (await readAll(openSource<PubmedArticle>(`pubtator:${fixture('sample.pubtator')}`))).map(
      (e) => e.value,
    );
    const out = join(tmp, 'rt.pubtator');
    const sink = openSink<PubmedArticle>(`pubtator:${out}`);
    const acked: number[] = [];
    const envs = original.map((v, i) =>
      envelope(v, {
        key: v.pmid,
        origin: { kind: 'memory', source: 't', index: i },
        // The sink acks only after the write reached the file: the text is there when the ack runs.
        ack: AckToken.root(() => {
          expect(readFileSync(out, 'utf8')).toContain(`${v.pmid}|t|`);
          acked.push(i);
        }),
      }),
    );
    const written = await lastValueFrom(from(envs).pipe(sink.write(), toArray()));
    await sink.close();
    expect(written).toHaveLength(2);
    expect(acked).toEqual([0, 1]);
    const back = (await readAll(openSource<PubmedArticle>(`pubtator:${out}`))).map((e) => e.value);
    expect(back).toEqual(original);
  });

  it('nacks an article whose text would break the format, writing the others', async () => {
    const out = join(tmp, 'nl.pubtator');
    const sink = openSink<PubmedArticle>(`pubtator:${out}`);
    const failures: string[] = [];
    const mk = (pmid: string, title: string, i: number) =>
      envelope(
        { pmid, title, abstract: 'x', journal: null, year: null, mesh: [], annotations: [], relations: [] },
        {
          origin: { kind: 'memory', source: 't', index: i },
          ack: AckToken.root((s) =>
            failures.push(...s.failures.map((f) => `${f.stage}/${f.stepId}: ${f.error.message}`)),
          ),
        },
      );
    const written = await lastValueFrom(
      from([mk('1', 'ok', 0), mk('2', 'bad\ntitle', 1)]).pipe(sink.write(), toArray()),
    );
    await sink.close();
    expect(written.map((e) => e.value.pmid)).toEqual(['1']);
    expect(failures).toEqual([
      expect.stringMatching(/^sink\/pubtator:.*title of PMID 2 contains a line break/),
    ]);
  });
});

describe.skipIf(skipWithoutSharedData('PubTator on the CDR dev set'))(
  'PubTator on the shared CDR dev set',
  () => {
    it('reads 500 articles from cdr_dev.pubtator whose annotation offsets match the text', async () => {
      const dlq = new CollectingDeadLetters();
      const envs = await readAll(
        openSource<PubmedArticle>(`pubtator:${dataPath('pubtator', 'cdr_dev.pubtator')}`, {
          deadLetters: dlq,
        }),
      );
      expect(dlq.messages).toEqual([]);
      expect(envs).toHaveLength(500);
      let mentions = 0;
      for (const { value: a } of envs) {
        const doc = `${a.title} ${a.abstract}`;
        for (const m of a.annotations) {
          expect(doc.slice(m.start, m.end)).toBe(m.text);
          mentions += 1;
        }
      }
      expect(mentions).toBeGreaterThan(9000);
      // Lossless: writing the articles back gives the original file (composite mentions' extra column too).
      const out = join(tmp, 'cdr.pubtator');
      const sink = openSink<PubmedArticle>(`pubtator:${out}`);
      await lastValueFrom(
        from(envs.map((e) => ({ ...e, ack: AckToken.noop() }))).pipe(sink.write(), toArray()),
      );
      await sink.close();
      const norm = (t: string): string => t.replace(/\n+$/, '');
      expect(norm(readFileSync(out, 'utf8'))).toBe(
        norm(readFileSync(dataPath('pubtator', 'cdr_dev.pubtator'), 'utf8')),
      );
      expect(envs.every((e) => e.value.annotations.length > 0)).toBe(true);
      // Every article is a valid PubmedArticle for the Avro codec.
      const codec = await createCodec();
      for (const { value } of envs)
        expect(codec.decode(codec.encode('PubmedArticle', value), 'PubmedArticle')).toEqual(value);
    });
  },
);
