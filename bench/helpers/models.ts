// Helpers for bench/ner-throughput.ts and bench/generate.ts: data and models (trained or random-init).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPath, projectRoot } from '../../src/io/dataPath.ts';

/** Sentences (tokens only) of a CoNLL file: first column, blank lines between sentences. */
export function readConllTokens(path: string): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('-DOCSTART-')) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push(t.split(/\s+/)[0] ?? t);
  }
  if (cur.length) out.push(cur);
  return out;
}

/** BC5CDR dev sentences from the shared data. */
export function bc5cdrDev(): string[][] {
  const p = dataPath('ner', 'bc5cdr', 'dev.conll');
  if (!existsSync(p)) throw new Error(`bench: ${p} not found (set BIOSTREAM_DATA)`);
  return readConllTokens(p);
}

/**
 * The trained bundle at models/<name> when it exists (`marker` file present), else a randomly initialized
 * model of the intended size made by training/fixtures/make_bench_models.py into /tmp (kind: ner | seq2seq).
 */
export function benchModel(
  name: string,
  marker: string,
  kind: 'ner' | 'seq2seq',
): { dir: string; which: string } {
  const trained = join(projectRoot, 'models', name);
  if (existsSync(join(trained, marker))) return { dir: trained, which: `models/${name} (trained)` };
  const out = process.env.BENCH_MODELS ?? '/tmp/bioaug-bench-models';
  const dir = join(out, kind);
  if (!existsSync(join(dir, 'model.json'))) {
    console.error(
      `bench: models/${name} not found; building a random ${kind} model of the intended size in ${out}`,
    );
    execFileSync(
      '/usr/bin/python3',
      [join(projectRoot, 'training/fixtures/make_bench_models.py'), out, kind],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  return { dir, which: `random-init ${kind} of the intended size (training/fixtures/make_bench_models.py)` };
}

/** Seconds elapsed while running fn. */
export async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
