// `bioaug-stream consume`: a topic (Avro, Confluent wire format) to JSONL, PubTator or stdout. The options
// are declared here; the consumer (consumeAction.ts: kafkajs, Avro) is imported when the command runs.
import type { Command } from 'commander';
import { addConfigOptions } from '../config/configOptions.ts';

/** Registers `consume`. */
export function register(program: Command): void {
  const cmd = program
    .command('consume')
    .description('consume a topic, decoding Avro, into jsonl:path, pubtator:path or stdout:jsonl')
    .requiredOption('--topic <name>', 'topic to read (kafka:<topic>?schema=Name also accepted)')
    .option('--out <uri>', 'output: jsonl:path, pubtator:path, stdout:jsonl', 'stdout:jsonl')
    .option('--max <n>', 'stop after n records')
    .option(
      '--idle-ms <ms>',
      'stop after this long without new records, counted from the group assignment (0: run until SIGINT; default 5000, or 30000 with --max)',
    )
    .option('--dead-letters <uri>', 'where undecodable records go', 'stderr:');
  addConfigOptions(cmd);
  cmd.action(async (flags: Record<string, unknown>) => {
    const { consumeAction } = await import('./consumeAction.ts');
    await consumeAction(flags);
  });
}
