import type { Command } from 'commander';
import { evalPubtator } from '../../eval/evalPubtator.ts';

const round = (x: number): number => Math.round(x * 100) / 100;

/** Adds `eval pubtator` (document-level F1 by character offsets) to the `eval` group. */
export function registerEvalPubtator(group: Command): void {
  group
    .command('pubtator')
    .description(
      'Run ner-tagging over PubTator abstracts and score predicted mentions against the gold offsets and types',
    )
    .requiredOption('--model <dir>', 'NER bundle folder (e.g. models/ner-bc5cdr)')
    .requiredOption('--data <file>', 'PubTator file with gold annotations (e.g. pubtator/cdr_dev.pubtator)')
    .option('--types <list>', 'comma-separated types to score (default: gold types the model predicts)')
    .option('--limit <n>', 'only the first n abstracts (0 = all)', '0')
    .option('--max-batch <n>', 'NER batch size', '32')
    .option('--tokenizer <style>', 'tokenization fed to the model: split, runs, ptb or a corpus name')
    .option('--kafka', 'go through a Kafka broker: KAFKA_BROKERS, else an in-process librdkafka mock cluster')
    .option('--partitions <n>', 'partitions of the evaluation topics', '3')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        const r = await evalPubtator({
          model: String(opts.model),
          data: String(opts.data),
          types: typeof opts.types === 'string' ? opts.types.split(',').map((t) => t.trim()) : undefined,
          limit: Number(opts.limit) || undefined,
          maxBatch: Number(opts.maxBatch),
          kafka: opts.kafka === true,
          ...(typeof opts.tokenizer === 'string' ? { tokenizerStyle: opts.tokenizer } : {}),
          partitions: Number(opts.partitions),
        });
        const perType = Object.fromEntries(
          Object.entries(r.per_type).map(([k, v]) => [
            k,
            {
              precision: round(v.precision),
              recall: round(v.recall),
              f1: round(v.f1),
              tp: v.tp,
              fp: v.fp,
              fn: v.fn,
            },
          ]),
        );
        for (const [k, v] of Object.entries(perType))
          process.stdout.write(`${k.padEnd(12)} P ${v.precision} R ${v.recall} F1 ${v.f1}\n`);
        process.stdout.write(
          JSON.stringify({
            precision: round(r.precision),
            recall: round(r.recall),
            f1: round(r.f1),
            per_type: perType,
            abstracts: r.abstracts,
            predictions: r.predictions,
            ...(r.transport === 'kafka' ? { missing: r.missing, duplicates: r.duplicates } : {}),
            dead_letters: r.deadLetters,
            seconds: round(r.seconds),
            transport: r.transport,
            ...(r.brokers ? { brokers: r.brokers } : {}),
            model: opts.model,
            data: opts.data,
          }) + '\n',
        );
      } catch (e) {
        process.stderr.write(`bioaug-stream eval pubtator: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
