import type { Command } from 'commander';
import { formatCliError } from '../main.ts';

/** Registers `train <recipe>`: the same runner as `npm run train` (Python recipes under training/). */
export function register(program: Command): void {
  program
    .command('train')
    .description('Train a default model bundle (the same runner as npm run train); see training/README.md')
    .argument(
      '<recipe>',
      'word2vec | ner | ner-multitask | keywords | relations | generator | normalize | gene-names | cid | ensemble | pseudo-label',
    )
    .allowUnknownOption(true)
    .helpOption(false)
    .argument('[options...]', 'recipe options, e.g. --data bc5cdr --seed 1 --epochs 12')
    .action(async (recipe: string, rest: string[]) => {
      // Imported lazily: the runner pulls in the evaluation stack only when training.
      const { runTrain, TrainUsageError } = await import('../../../training/run.ts');
      try {
        await runTrain([recipe, ...rest]);
      } catch (e) {
        if (!(e instanceof TrainUsageError)) throw e;
        // a bad command line exits 2, as npm run train does; other failures go to the CLI's handler (1)
        process.stderr.write(formatCliError(e));
        process.exitCode = 2;
      }
    });
}
