// Which data a bundle was built from, read from its model.json provenance (`train`, `dev`, and
// `dictionary` or `training`: "train+dev" for bundles built on dev too), so an evaluation can say when its
// figures are not held out.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Same name; for the corpora's generic names (train.conll, dev.conll, dev.tsv...) the same folder too,
 * when both paths name one (`ncbi/dev.conll` is not `bc5cdr/dev.conll`).
 */
function sameFile(a: string, b: string): boolean {
  const tail = (p: string) =>
    p
      .split(/[\\/]/)
      .filter((s) => s !== '' && s !== '.')
      .slice(-2);
  const [x, y] = [tail(a), tail(b)];
  if (x.at(-1) !== y.at(-1)) return false;
  const generic = /^(train|dev|test)\.[a-z]+$/.test(x.at(-1) ?? '');
  return !generic || x.length < 2 || y.length < 2 || x[0] === y[0];
}

/**
 * Says whether the bundle in `dir` was built from `dataFile` (its training file, or its dev file in a
 * train + dev build), judged by file name. Returns a one-line note naming both, or null (also when the
 * bundle has no readable provenance).
 */
export function bundleSawData(dir: string, dataFile: string): string | null {
  let prov:
    { train?: unknown; dev?: unknown; dictionary?: unknown; training?: unknown; texts?: unknown } | undefined;
  try {
    prov = (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { provenance?: typeof prov })
      .provenance;
  } catch {
    return null;
  }
  if (!prov) return null;
  const withDev = prov.dictionary === 'train+dev' || prov.training === 'train+dev';
  // texts: other files holding the same texts (an NER bundle of ner/bc5cdr saw the CDR PubTator abstracts)
  const texts = Array.isArray(prov.texts) ? (prov.texts as unknown[]) : [];
  const seen = [prov.train, ...(withDev ? [prov.dev] : []), ...texts].filter(
    (f): f is string => typeof f === 'string',
  );
  const name = basename(dataFile);
  if (!seen.some((f) => sameFile(f, dataFile))) return null;
  return `the bundle ${dir} was built from ${name} (${withDev ? 'train+dev' : 'train'} build): figures on it are not held out`;
}
