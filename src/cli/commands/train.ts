import type { Command } from 'commander';

/** Registers `train <recipe>`: the same runner as `npm run train` (Python recipes under training/). */
export function register(program: Command): void {
  program
    .command('train')
    .description('Train a default model bundle (recipes: word2vec, ner, keywords); see training/README.md')
    .argument('<recipe>', 'word2vec | ner | keywords')
    .allowUnknownOption(true)
    .helpOption(false)
    .argument('[options...]', 'recipe options, e.g. --data bc5cdr --seed 1 --epochs 12')
    .action(async (recipe: string, rest: string[]) => {
      // Imported lazily: the runner pulls in the evaluation stack only when training.
      const { runTrain } = await import('../../../training/run.ts');
      await runTrain([recipe, ...rest]);
    });
}
