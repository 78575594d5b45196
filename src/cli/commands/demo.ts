// `bioaug-stream demo` (what `npm start` runs): the ingest topology on the embedded default, a file
// source of sample abstracts and JSONL file sinks under out/, then a short human-readable summary. The
// options are declared here; the run (demoAction.ts: the models, the console) is imported when it runs.
import { join } from 'node:path';
import type { Command } from 'commander';
import { projectRoot } from '../../io/dataPath.ts';

/** Registers `demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the ingest topology on the bundled sample abstracts (no Kafka) and summarize (npm start)',
    )
    .option(
      '--input <file.pubtator>',
      'abstracts',
      join(projectRoot, 'topologies/samples/abstracts.pubtator'),
    )
    .option('--out <dir>', 'output folder', 'out')
    .option('--models <dir>', 'folder of the model bundles', join(projectRoot, 'models'))
    .option('--n <n>', 'BioAug generations per sentence', '2')
    .option('--seed <n>', 'seed', '1')
    .option('--json', 'print the summary as one JSON line instead')
    .option('--no-console', 'do not serve the live console page')
    .option('--console-port <port>', 'port of the live console (a free one when taken; 0: any)', '9464')
    .option('--keep-open', 'keep the console page up after the demo ends, until Ctrl-C')
    .action(async (opts: DemoFlags) => {
      const { demoAction } = await import('./demoAction.ts');
      await demoAction(opts);
    });
}

/** The parsed options of `demo`. */
export type DemoFlags = {
  input: string;
  out: string;
  models: string;
  n: string;
  seed: string;
  json?: boolean;
  console: boolean;
  consolePort: string;
  keepOpen?: boolean;
};
