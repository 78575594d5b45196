// `bioaug-stream eval <ner|pubtator|relations>`: the options of each subcommand are declared here; what
// runs (the models, the topologies, Kafka) is imported when the subcommand runs, not for `--help`.
import type { Command } from 'commander';

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
      const [{ evalNer }, { bundleSawData }, { loadTagger }] = await Promise.all([
        import('../../eval/evalNer.ts'),
        import('../../models/bundleProvenance.ts'),
        import('../loadTagger.ts'),
      ]);
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

/** Adds `eval pubtator` (document-level F1 by character offsets) to the `eval` group. */
function registerEvalPubtator(group: Command): void {
  group
    .command('pubtator')
    .description(
      'Run ner-tagging over PubTator abstracts and score predicted mentions against the gold offsets and types',
    )
    .option('--model <dir>', 'NER bundle folder (default models/ner-bc5cdr)')
    .requiredOption('--data <file>', 'PubTator file with gold annotations (e.g. pubtator/cdr_dev.pubtator)')
    .option('--types <list>', 'comma-separated types to score (default: gold types the model predicts)')
    .option('--limit <n>', 'only the first n abstracts (0 = all)', '0')
    .option('--max-batch <n>', 'NER batch size', '32')
    .option('--tokenizer <style>', 'tokenization fed to the model: split, runs, ptb or a corpus name')
    .option('--normalizer <dir>', 'normalization bundle of the concepts (default models/normalize-cdr)')
    .option('--kafka', 'go through a Kafka broker: KAFKA_BROKERS, else an in-process librdkafka mock cluster')
    .option('--partitions <n>', 'partitions of the evaluation topics', '3')
    .option(
      '--document <json>',
      'ner-tagging document-level stage config as JSON, e.g. \'{"consistency":{"enabled":false}}\' (blocks: abbreviations, codeNames, slashes, consistency, brackets, genes)',
    )
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { evalPubtatorAction } = await import('./evalPubtator.ts');
      await evalPubtatorAction(opts);
    });
}

/** Adds `eval relations` to the `eval` group. */
function registerEvalRelations(group: Command): void {
  group
    .command('relations')
    .description(
      'Document-level chemical-induced-disease relations (BioCreative V CID: P/R/F1 over (PMID, chemical id, disease id)) on a PubTator file',
    )
    .requiredOption(
      '--data <file>',
      'PubTator file with gold mentions, MeSH ids and CID lines (e.g. cdr_dev.pubtator)',
    )
    .option('--gold-entities', 'relations on the gold mentions and ids (no NER, no normalization)')
    .option('--model <dir>', 'NER bundle (default models/ner-bc5cdr)')
    .option('--normalizer <dir>', 'normalization bundle (default models/normalize-cdr)')
    .option('--cid <dir>', 'CID relation bundle (default models/cid-relations)')
    .option('--threshold <p>', "emit relations at or above this probability (default: the CID bundle's)")
    .option('--limit <n>', 'only the first n abstracts (0 = all)', '0')
    .option('--max-batch <n>', 'batch size of the model steps', '32')
    .option('--kafka', 'end to end through Kafka: KAFKA_BROKERS, else an in-process librdkafka mock cluster')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { evalRelationsAction } = await import('./evalRelations.ts');
      await evalRelationsAction(opts);
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
