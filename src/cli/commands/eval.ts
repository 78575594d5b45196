import type { Command } from 'commander';
import { evalNer } from '../../eval/evalNer.ts';
import { bundleSawData } from '../../models/bundleProvenance.ts';
import { loadTagger } from '../loadTagger.ts';
import { registerEvalPubtator } from './evalPubtator.ts';
import { registerEvalRelations } from './evalRelations.ts';

/** Adds `eval ner` to the `eval` group. */
function registerEvalNer(group: Command): void {
  group
    .command('ner')
    .description(
      'Strict entity P/R/F1 (seqeval-equivalent, 0-100) of a token-classification bundle on a CoNLL file',
    )
    .requiredOption('--model <dir>', 'model bundle folder (e.g. models/ner-bc5cdr)')
    .requiredOption('--data <file>', 'CoNLL file with gold tags (CRLF and runs of blank lines are fine)')
    .option('--tag-column <n>', '1-based column of the gold tag (2 for ner/, 4 for keywords/)', '2')
    .option('--bare-type <type>', "type for gold tags written as plain B/I (default: the model's only type)")
    .option('--batch-size <n>', 'sentences per predict call', '32')
    .option('--limit <n>', 'score only the first n sentences (0 = all)', '0')
    .action(async (opts: Record<string, string>) => {
      const tagger = await loadTagger(opts.model!);
      try {
        const r = await evalNer(tagger, {
          data: opts.data!,
          tagColumn: Number(opts.tagColumn),
          bareType: opts.bareType,
          batchSize: Number(opts.batchSize),
          limit: Number(opts.limit),
        });
        const round = (x: number) => Math.round(x * 100) / 100;
        const saw = bundleSawData(opts.model!, opts.data!);
        const perType = Object.fromEntries(
          Object.entries(r.per_type).map(([k, v]) => [
            k,
            { precision: round(v.precision), recall: round(v.recall), f1: round(v.f1), support: v.support },
          ]),
        );
        for (const [k, v] of Object.entries(perType))
          process.stdout.write(`${k.padEnd(12)} P ${v.precision} R ${v.recall} F1 ${v.f1} (${v.support})\n`);
        process.stdout.write(
          JSON.stringify({
            precision: round(r.precision),
            recall: round(r.recall),
            f1: round(r.f1),
            per_type: perType,
            sentences: r.sentences,
            tokens: r.tokens,
            sentences_per_s: round(r.sentences_per_s),
            model: opts.model,
            data: opts.data,
            ...(saw ? { notHeldOut: saw } : {}),
          }) + '\n',
        );
        if (saw) process.stderr.write(`eval ner: ${saw}\n`);
      } finally {
        await tagger.close?.();
      }
    });
}

// Subcommands of `eval`; each adds itself to the group (e.g. `eval pubtator` goes here too).
const evalSubcommands: Array<(group: Command) => void> = [
  registerEvalNer,
  registerEvalPubtator,
  registerEvalRelations,
];

/** Registers the `eval` command group. */
export function register(program: Command): void {
  const group = program.command('eval').description('Evaluate model bundles against gold data');
  for (const add of evalSubcommands) add(group);
}
