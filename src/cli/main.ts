import { Command } from 'commander';

/** Command modules register their subcommands on the root program. */
export type CommandModule = { register(program: Command): void };

// Each subcommand lives in its own file under commands/; add new ones here.
const modules: Array<() => Promise<CommandModule>> = [
  () => import('./commands/augment.ts'),
  () => import('./commands/trainingPairs.ts'),
  () => import('./commands/eval.ts'),
  () => import('./commands/train.ts'),
  () => import('./commands/split.ts'),
  () => import('./commands/demo.ts'),
  () => import('./commands/study.ts'),
  () => import('./commands/run.ts'),
  () => import('./commands/produce.ts'),
  () => import('./commands/consume.ts'),
  () => import('./commands/topics.ts'),
];

/** Entry point of the `bioaug-stream` command. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('bioaug-stream')
    .description('Streaming dataflow engine for biomedical text (Kafka or files, ONNX Runtime models)')
    .showHelpAfterError();
  for (const load of modules) (await load()).register(program);
  await program.parseAsync(argv);
}
