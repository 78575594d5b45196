// `bioaug-stream training-pairs`: writes BioAug fine-tuning pairs (corrupted input + knowledge,
// linearized target) as JSONL, for the generator recipe in training/.
import { existsSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CorruptConfig } from '../../augment/bioaug/corrupt.ts';
import { silverKnowledge, type KnowledgeSource } from '../../augment/bioaug/knowledge.ts';
import { labelTokensFor } from '../../augment/bioaug/labels.ts';
import { makeTrainingPair } from '../../augment/bioaug/trainingPairs.ts';
import { attachKeywords, readLabeled } from '../../augment/corpus.ts';
import type { SentenceToAugment } from '../../augment/types.ts';
import { createRng } from '../../engine/rng.ts';
import { dataPath } from '../../io/dataPath.ts';
import { entityTypes } from '../../text/bio.ts';
import { LineWriter } from './augment.ts';

const DATASETS = ['bc2gm', 'bc5cdr', 'ebmnlp', 'jnlpba', 'ncbi'];

function fail(msg: string): never {
  throw new Error(`training-pairs: ${msg}`);
}

/** Registers `training-pairs`. */
export function register(program: Command): void {
  program
    .command('training-pairs')
    .description('Write BioAug fine-tuning pairs {id, source_id, n, input, target} as JSONL')
    .option('--dataset <name>', `shared corpus: ${DATASETS.join(', ')} (reads keywords/ and relations/)`)
    .option('--size <n>', 'shared training size: 100, 200, 500 (or all where present)', '100')
    .option('--split <s>', 'train or dev (dev has no silver relations: no knowledge)', 'train')
    .option('--input <file>', 'CoNLL input instead of --dataset (4th column = keyword BIO if present)')
    .option('--keywords <file>', '4-column keywords file with the same sentences as --input')
    .option('--relations <dir>', 'folder with train_processed.json + train_processed_precompute.json')
    .option('--no-knowledge', 'do not append relation triples')
    .option('--n <n>', 'pairs per sentence (each a fresh corruption)', '3')
    .option('--seed <n>', 'random seed (same input + seed = same output)', '1')
    .option('--mu <x>', 'mean keep share of keywords', '0.5')
    .option(
      '--sd <s>',
      'spread of the share: inverse-k-variance, inverse-k-std or a number (std)',
      'inverse-k-variance',
    )
    .option('--out-of-range <s>', 'clip or resample draws outside [0,1]', 'clip')
    .option('--max-triples <n>', 'most knowledge triples per pair', '5')
    .requiredOption('--output <file>', "JSONL output ('-' for stdout)")
    .action((opts: Record<string, string | boolean | undefined>) => {
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
          if (!existsSync(path))
            fail(`${path} not found (sizes: 100, 200, 500; all for bc5cdr, ncbi, bc2gm)`);
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
        if (repaired > 0)
          process.stderr.write(`training-pairs: repaired invalid BIO in ${repaired} sentences\n`);
        let knowledge: KnowledgeSource | undefined;
        if (opts.knowledge !== false && relDir) {
          const proc = `${relDir}/train_processed.json`;
          const pre = `${relDir}/train_processed_precompute.json`;
          if (existsSync(proc) && existsSync(pre)) knowledge = silverKnowledge(proc, pre);
          else
            process.stderr.write(
              `training-pairs: no silver relations in ${relDir}: pairs without knowledge\n`,
            );
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
    });
}
