import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { PubmedArticle } from '../../../src/io/avro/index.ts';
import { projectRoot } from '../../../src/io/dataPath.ts';
import { joinAbstract, openSource } from '../../../src/io/files/index.ts';
import { invalidUtf8At, readPubmedXml } from '../../../src/io/files/pubmedXml.ts';
import { CollectingDeadLetters, readAll } from './helpers.ts';
import { tempDir } from '../../helpers/setup.ts';

const xmlPath = resolve(projectRoot, 'test/fixtures/io/pubmed-sample.xml');
const tmp = tempDir('h2-pubmed-');

async function read(path: string, dlq = new CollectingDeadLetters()) {
  const envs = await readAll(openSource<PubmedArticle>(`pubmed-xml:${path}`, { deadLetters: dlq }));
  return { envs, values: envs.map((e) => e.value), dlq };
}

describe('PubMed XML source', () => {
  it('reads PubmedArticle elements: structured abstracts, inline markup, dates, MeSH', async () => {
    const { values, dlq } = await read(xmlPath);
    expect(values.map((v) => v.pmid)).toEqual(['1001', '1002', '1004']);
    const [a, b, c] = values as [PubmedArticle, PubmedArticle, PubmedArticle];
    expect(a.title).toBe('Effects of lithium on renal function.');
    expect(a.abstract).toBe(
      'BACKGROUND: Lithium is nephrotoxic. METHODS: We studied 10 patients & 5 controls. ' +
        'CONCLUSIONS: Renal function fell (p < 0.05).',
    );
    expect(a).toMatchObject({ journal: 'Journal of Testing', year: 2019, mesh: ['Lithium', 'Kidney'] });
    expect(b).toMatchObject({
      abstract: 'Plain text of the abstract with H2O.',
      year: 1998,
      journal: 'Old Journal',
    });
    expect(c).toMatchObject({ abstract: '', year: 2020, annotations: [] });
    // The article without a PMID is a dead letter naming its line; DeleteCitation is not an article.
    expect(dlq.messages).toEqual([
      expect.stringMatching(/pubmed-sample\.xml line 42: PubmedArticle without/),
    ]);
  });

  it('reads gzip-compressed files (detected by magic bytes) and folders of them in name order', async () => {
    const dir = join(tmp, 'baseline');
    mkdirSync(dir);
    const xml = readFileSync(xmlPath);
    writeFileSync(join(dir, 'pubmed25n0002.xml.gz'), gzipSync(xml.toString().replaceAll('>100', '>200')));
    writeFileSync(join(dir, 'pubmed25n0001.xml.gz'), gzipSync(xml));
    writeFileSync(join(dir, 'README.txt'), 'not xml');
    const one = await read(join(dir, 'pubmed25n0001.xml.gz'));
    expect(one.values.map((v) => v.pmid)).toEqual(['1001', '1002', '1004']);
    const all = await read(dir);
    expect(all.values.map((v) => v.pmid)).toEqual(['1001', '1002', '1004', '2001', '2002', '2004']);
    expect(all.envs[3]?.origin).toMatchObject({
      kind: 'file',
      path: join(dir, 'pubmed25n0002.xml.gz'),
      line: 4,
    });
    expect(all.dlq.records).toHaveLength(2);
  });

  it('reports malformed XML inside an article and a truncated file as dead letters, keeping earlier articles', async () => {
    const text = readFileSync(xmlPath, 'utf8');
    const broken = text.replace(
      '<ArticleTitle>An unstructured abstract.</ArticleTitle>',
      '<ArticleTitle>Bad</Title>',
    );
    const p1 = join(tmp, 'broken.xml');
    writeFileSync(p1, broken);
    const r1 = await read(p1);
    expect(r1.values[0]?.pmid).toBe('1001');
    expect(r1.dlq.messages.some((m) => /broken\.xml line \d+: XML error/.test(m))).toBe(true);
    const p2 = join(tmp, 'truncated.xml');
    writeFileSync(p2, text.slice(0, text.indexOf('<PMID Version="1">1002')));
    const r2 = await read(p2);
    expect(r2.values.map((v) => v.pmid)).toEqual(['1001']);
    expect(r2.dlq.records.length).toBeGreaterThanOrEqual(1);
    expect(r2.dlq.messages[0]).toMatch(/truncated\.xml line 29: XML error at line 31: Unclosed root tag/);
  });

  it('an article with invalid UTF-8 is a dead letter naming line and byte; valid multi-byte text (even U+FFFD) reads as is', async () => {
    const text = readFileSync(xmlPath, 'utf8')
      .replace('Lithium is nephrotoxic.', 'Lithium is nephrotoxic \u00e9\u03b1\u{1F600} \uFFFD.')
      .replace('Plain text of the abstract', 'Plain @@ text of the abstract');
    const [before, after] = text.split('@@') as [string, string];
    // 0xC3 0x28: a lead byte followed by ASCII, in article 1002 only.
    const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28]), Buffer.from(after)]);
    const p = join(tmp, 'bad-utf8.xml');
    writeFileSync(p, bytes);
    const r = await read(p);
    expect(r.values.map((v) => v.pmid)).toEqual(['1001', '1004']);
    expect(r.values[0]!.abstract).toContain('nephrotoxic \u00e9\u03b1\u{1F600} \uFFFD.');
    const line = before.split('\n').length;
    expect(r.dlq.messages).toContainEqual(
      expect.stringMatching(
        new RegExp(`bad-utf8\\.xml line \\d+: invalid UTF-8 \\(byte 0xc3\\) at line ${line}$`),
      ),
    );
    expect(r.dlq.records.find((d) => d.key === '1002')).toBeDefined();
    // One byte per chunk: sequences cut by chunk boundaries are joined, not reported.
    const oneByte = (async function* () {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    })();
    const recs = [];
    for await (const x of readPubmedXml(oneByte, p)) recs.push(x);
    expect(recs.map((x) => [x.key, x.ok])).toEqual([
      ['1001', true],
      ['1002', false],
      [null, false],
      ['1004', true],
    ]);
    expect(invalidUtf8At(Buffer.from([0xe0, 0x80, 0x80]))).toBe(0); // overlong
    expect(invalidUtf8At(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
    expect(invalidUtf8At(Buffer.from('ok \u00e9 \u{1F600}'))).toBe(-1);
  });

  it('ends the stream with an error naming the file when the gzip data is corrupt', async () => {
    const gz = gzipSync(readFileSync(xmlPath));
    const p = join(tmp, 'corrupt.xml.gz');
    writeFileSync(p, Buffer.concat([gz.subarray(0, 20), Buffer.alloc(200, 0x55)]));
    await expect(readAll(openSource(`pubmed-xml:${p}`))).rejects.toThrow(/corrupt\.xml\.gz failed: .+/);
  });

  it('joins abstract sections the way PubMed displays them', () => {
    expect(
      joinAbstract([
        { label: 'OBJECTIVE', text: ' a ' },
        { label: null, text: 'b' },
        { label: 'EMPTY', text: '' },
      ]),
    ).toBe('OBJECTIVE: a b EMPTY:');
  });
});

describe('PMC full text (JATS .nxml) through the same reader', () => {
  it('reads the front matter: PMID, title with inline markup, structured abstract, journal, year', async () => {
    const { values, dlq } = await read(resolve(projectRoot, 'test/fixtures/io/pmc-sample.nxml'));
    expect(dlq.messages).toEqual([]);
    expect(values).toEqual([
      {
        pmid: '31000001',
        title: 'Cisplatin-induced nephrotoxicity in rats',
        abstract:
          'Background: Cisplatin causes acute kidney injury. Results: Serum creatinine rose by 40% in treated rats.',
        journal: 'Journal of Test Pharmacology',
        year: 2020,
        mesh: [],
        annotations: [],
        relations: [],
      },
    ]);
  });

  it('keys an article without a PMID by its PMC id', async () => {
    const p = join(tmp, 'nopmid.nxml');
    writeFileSync(
      p,
      '<article><front><article-meta><article-id pub-id-type="pmc">123</article-id>' +
        '<title-group><article-title>T</article-title></title-group><abstract><p>A.</p></abstract>' +
        '</article-meta></front></article>',
    );
    const { values } = await read(p);
    expect(values.map((v) => [v.pmid, v.title, v.abstract])).toEqual([['PMC123', 'T', 'A.']]);
  });

  it('a file with no article of either kind is a dead letter, not zero records in silence', async () => {
    const p = join(tmp, 'other.xml');
    writeFileSync(p, '<?xml version="1.0"?><html><body><p>not an article</p></body></html>');
    const { values, dlq } = await read(p);
    expect(values).toEqual([]);
    expect(dlq.messages).toEqual([
      expect.stringMatching(/no PubmedArticle .* or article \(PMC JATS\) element/),
    ]);
  });
});
