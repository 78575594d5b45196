/**
 * Streaming read of a large gzip PubMed XML file: `npm run bench -- pubmed-xml-read [articles]`.
 * Writes a synthetic baseline-like file to the temp folder, reads it through `openSource` with
 * maxInFlight 1000, and prints one JSON line with articles/s and peak RSS (memory stays flat as
 * the file grows because reading waits for credits).
 */
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { openSource } from '../src/io/files/index.ts';

async function writeXml(path: string, n: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const gz = createGzip({ level: 1 });
    const out = createWriteStream(path);
    gz.pipe(out);
    out.on('finish', () => resolve());
    out.on('error', reject);
    let i = 0;
    const write = (): void => {
      while (i < n) {
        const a =
          `<PubmedArticle><MedlineCitation><PMID Version="1">${i + 1}</PMID><Article><Journal><Title>J</Title>` +
          `<JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue></Journal>` +
          `<ArticleTitle>Title ${i} of a synthetic article.</ArticleTitle><Abstract>` +
          `<AbstractText Label="BACKGROUND">${'Lithium carbonate toxicity in a newborn infant. '.repeat(15)}</AbstractText>` +
          `<AbstractText Label="RESULTS">${'Serum levels were high. '.repeat(10)}</AbstractText>` +
          `</Abstract></Article></MedlineCitation></PubmedArticle>\n`;
        const s =
          (i === 0 ? '<?xml version="1.0"?>\n<PubmedArticleSet>\n' : '') +
          a +
          (i === n - 1 ? '</PubmedArticleSet>\n' : '');
        i++;
        if (!gz.write(s)) {
          gz.once('drain', write);
          return;
        }
      }
      gz.end();
    };
    write();
  });
}

/** Runs the benchmark and prints its JSON line. */
export default async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 200_000);
  const path = join(tmpdir(), `bioaug-readbench-${process.pid}.xml.gz`);
  await writeXml(path, n);
  let peak = 0;
  let count = 0;
  let chars = 0;
  const t0 = performance.now();
  const src = openSource<{ abstract: string }>(`pubmed-xml:${path}`, { maxInFlight: 1000 });
  await new Promise<void>((resolve, reject) =>
    src.open().subscribe({
      next: (e) => {
        count += 1;
        chars += e.value.abstract.length;
        e.ack.ack();
        if (count % 2000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      },
      error: reject,
      complete: resolve,
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const gzBytes = statSync(path).size;
  rmSync(path, { force: true });
  console.log(
    JSON.stringify({
      bench: 'pubmed-xml-read',
      articles: count,
      gzBytes,
      abstractMB: Math.round(chars / 1e6),
      seconds: +s.toFixed(1),
      articlesPerS: Math.round(count / s),
      peakRssMB: Math.round(peak / 2 ** 20),
      peakInFlight: src.stats.peakInFlight,
    }),
  );
}
