// `bioaug-stream produce`: a file (PubTator, PubMed XML, JSONL, CoNLL, stdin) to a Kafka topic as Avro,
// with a progress bar; or `--from-dlq <topic>`: re-inject dead letters (raw bytes) into a topic. The
// options are declared here; the producer (produceAction.ts: kafkajs, Avro) is imported when it runs.
import type { Command } from 'commander';
import { SCHEMA_NAMES } from '../../io/avro/schemaNames.ts';
import { addConfigOptions } from '../config/configOptions.ts';

/** Registers `produce`. */
export function register(program: Command): void {
  const cmd = program
    .command('produce [input]')
    .description(
      'produce a file (pubtator:path, jsonl:path, conll:path, pubmed-xml:path, stdin:fmt) to a topic',
    )
    .requiredOption('--topic <name>', 'destination topic')
    .option('--schema <name>', `Avro schema (default from the topic name); valid: ${SCHEMA_NAMES.join(', ')}`)
    .option(
      '--from-dlq <topic>',
      're-inject the raw records of a dead-letter topic instead of reading a file',
    )
    .option('--idle-ms <ms>', 'with --from-dlq: stop after this long without new records', '5000')
    .option('--dead-letters <uri>', 'where unreadable input records go', 'stderr:')
    .option('--no-progress', 'no progress bar');
  addConfigOptions(cmd);
  cmd.action(async (input: string | undefined, flags: Record<string, unknown>) => {
    const { produceAction } = await import('./produceAction.ts');
    await produceAction(input, flags);
  });
}
