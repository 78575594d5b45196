// The action of `bioaug-stream training-pairs` (options in trainingPairs.ts): reads the sentences and
// their keywords (and silver relations as knowledge), writes n corrupted pairs per sentence as JSONL.
import { existsSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { CorruptConfig } from '../../augment/bioaug/corrupt.ts';
import { silverKnowledge, type KnowledgeSource } from '../../augment/bioaug/knowledge.ts';
import { labelTokensFor } from '../../augment/bioaug/labels.ts';
import { makeTrainingPair } from '../../augment/bioaug/trainingPairs.ts';
import { attachKeywords, readLabeled } from '../../augment/corpus.ts';
import type { SentenceToAugment } from '../../augment/types.ts';
import { createRng } from '../../engine/rng.ts';
import { dataPath } from '../../io/dataPath.ts';
import { entityTypes } from '../../text/bio.ts';
import { LineWriter } from '../lineWriter.ts';
import { DATASETS } from './trainingPairs.ts';

function fail(msg: string): never {
  throw new Error(`training-pairs: ${msg}`);
}

/** Writes the pairs of `training-pairs`' parsed options; usage and input errors print one line, exit code 2. */
export function trainingPairsAction(opts: Record<string, string | boolean | undefined>): void {
  try {
    const n = Number(opts.n);
    const seed = Number(opts.seed);
    const maxTriples = Number(opts.maxTriples);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      fail(`--n must be an integer in 1..1000, got ${String(opts.n)}`);
    if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${String(opts.seed)}`);
    if (!Number.isInteger(maxTriples) || maxTriples < 0) fail(`--max-triples must be an integer >= 0`);
    const sdRaw = String(opts.sd);
    const parsed = CorruptConfig.safeParse({
      mu: Number(opts.mu),
      sd: /^[0-9.]+$/.test(sdRaw) ? Number(sdRaw) : sdRaw,
      outOfRange: opts.outOfRange,
    });
    if (!parsed.success)
      fail(
        `invalid corruption settings: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')} (valid --sd: inverse-k-variance, inverse-k-std, a number; --out-of-range: clip, resample)`,
      );
    const corrupt = parsed.data;
    let sentences: SentenceToAugment[];
    let relDir = opts.relations as string | undefined;
    let repaired = 0;
    const onRepair = (): void => void repaired++;
    if (opts.dataset) {
      const ds = String(opts.dataset);
      if (!DATASETS.includes(ds)) fail(`unknown dataset ${ds}; valid: ${DATASETS.join(', ')}`);
      const split = String(opts.split);
      const size = String(opts.size);
      let path: string;
      if (split === 'train') path = dataPath('keywords', ds, size, 'train.tsv');
      else if (split === 'dev') path = dataPath('keywords', ds, 'dev.tsv');
      else fail(`--split must be train or dev, got ${split}`);
      if (!existsSync(path)) fail(`${path} not found (sizes: 100, 200, 500; all for bc5cdr, ncbi, bc2gm)`);
      sentences = readLabeled(path, {
        keywordColumn: 4,
        onRepair,
        source: `${ds}/${split === 'dev' ? 'dev' : `${size}/train`}`,
      });
      if (split === 'train' && relDir === undefined) relDir = dataPath('relations', ds, size);
    } else if (opts.input) {
      sentences = readLabeled(String(opts.input), { onRepair });
      if (opts.keywords) attachKeywords(sentences, String(opts.keywords));
    } else fail('give --dataset <name> [--size] [--split] or --input <file> [--keywords <file>]');
    if (repaired > 0) process.stderr.write(`training-pairs: repaired invalid BIO in ${repaired} sentences\n`);
    let knowledge: KnowledgeSource | undefined;
    if (opts.knowledge !== false && relDir) {
      const proc = `${relDir}/train_processed.json`;
      const pre = `${relDir}/train_processed_precompute.json`;
      if (existsSync(proc) && existsSync(pre)) knowledge = silverKnowledge(proc, pre);
      else
        process.stderr.write(`training-pairs: no silver relations in ${relDir}: pairs without knowledge\n`);
    }
    const out = new LineWriter(String(opts.output));
    const bar = new SingleBar(
      { stream: process.stderr, format: 'training-pairs [{bar}] {value}/{total}' },
      Presets.shades_classic,
    );
    bar.start(sentences.length, 0);
    const root = createRng(seed);
    let withKnowledge = 0;
    let written = 0;
    sentences.forEach((s, i) => {
      const rng = root.fork(s.id);
      for (let k = 0; k < n; k++) {
        const pair = makeTrainingPair(s, k, rng.fork(k), { corrupt, knowledge, maxTriples });
        if (pair.input.includes(' </s> ')) withKnowledge++;
        out.write(JSON.stringify(pair) + '\n');
        written++;
      }
      bar.update(i + 1);
    });
    out.close();
    bar.stop();
    const labels = labelTokensFor(entityTypes(sentences.map((x) => x.tags)));
    process.stderr.write(
      `training-pairs: ${written} pairs from ${sentences.length} sentences, ${withKnowledge} with knowledge; label tokens: ${labels.join(' ')}\n`,
    );
  } catch (e) {
    // Input and usage errors are reported as one line, not a stack trace.
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
