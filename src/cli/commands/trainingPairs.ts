// `bioaug-stream training-pairs`: writes BioAug fine-tuning pairs (corrupted input + knowledge,
// linearized target) as JSONL, for the generator recipe in training/. The options are declared here; the
// writer (trainingPairsAction.ts) is imported when the command runs.
import type { Command } from 'commander';

/** The shared corpora of --dataset. */
export const DATASETS = ['bc2gm', 'bc5cdr', 'ebmnlp', 'jnlpba', 'ncbi'];

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
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { trainingPairsAction } = await import('./trainingPairsAction.ts');
      trainingPairsAction(opts);
    });
}
