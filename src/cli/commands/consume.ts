// `bioaug-stream consume`: a topic (Avro, Confluent wire format) to JSONL, PubTator or stdout.
import type { Command } from 'commander';
import type { Observable } from 'rxjs';
import { runTopology } from '../../engine/runner.ts';
import type { Envelope } from '../../engine/envelope.ts';
import { createCodec } from '../../io/avro/codec.ts';
import { openDeadLettersUri, openSinkUri, openSourceUri } from '../../io/wiring.ts';
import { addConfigOptions, applyProcessConfig, kafkaConnection, loadConfig, printConfig } from '../config.ts';

/** Registers `consume`. */
export function register(program: Command): void {
  const cmd = program
    .command('consume')
    .description('consume a topic, decoding Avro, into jsonl:path, pubtator:path or stdout:jsonl')
    .requiredOption('--topic <name>', 'topic to read (kafka:<topic>?schema=Name also accepted)')
    .option('--out <uri>', 'output: jsonl:path, pubtator:path, stdout:jsonl', 'stdout:jsonl')
    .option('--max <n>', 'stop after n records')
    .option('--idle-ms <ms>', 'stop after this long without new records (0: run until SIGINT)', '5000')
    .option('--dead-letters <uri>', 'where undecodable records go', 'stderr:');
  addConfigOptions(cmd);
  cmd.action(async (flags: Record<string, unknown>) => {
    const config = loadConfig({ flags });
    if (flags.printConfig) {
      process.stdout.write(printConfig(config));
      return;
    }
    applyProcessConfig(config);
    const connection = kafkaConnection(config);
    const codec = await createCodec(
      config.schemaRegistry.url ? { registryUrl: config.schemaRegistry.url } : {},
    );
    const deadLetters = openDeadLettersUri(flags.deadLetters as string, connection);
    const topicArg = flags.topic as string;
    const uri = topicArg.startsWith('kafka:') ? topicArg : `kafka:${topicArg}`;
    const wiring = {
      connection,
      groupId: config.kafka.groupId,
      fromBeginning: config.kafka.fromBeginning,
      maxInFlight: config.engine.maxInFlight,
      maxMessageBytes: config.engine.maxMessageBytes,
      codec,
      deadLetters,
      producer: config.kafka.producer,
      consumer: config.kafka.consumer,
    };
    const source = openSourceUri(uri, wiring, 'consume');
    const sink = openSinkUri(flags.out as string, wiring, 'out');
    const max = flags.max === undefined ? Number.POSITIVE_INFINITY : Number(flags.max);
    if (!(max > 0)) throw new Error(`consume: --max must be a positive number, got ${String(flags.max)}`);
    const run = runTopology({
      sources: { in: source },
      sinks: { out: sink },
      deadLetters,
      build: (s) => (s.in as Observable<Envelope<unknown>>).pipe(sink.write()),
      config: {},
    });
    let outputs = 0;
    let last = -1;
    const idleMs = Number(flags.idleMs);
    const poll = setInterval(
      () => {
        const stats = (source as { stats?: { acked: number } }).stats;
        outputs = stats?.acked ?? 0;
        if (outputs >= max || (idleMs > 0 && outputs === last)) void run.stop();
        last = outputs;
      },
      idleMs > 0 ? idleMs : 500,
    );
    const result = await run.done;
    clearInterval(poll);
    process.stderr.write(`consumed ${result.outputs} records from ${uri} -> ${flags.out as string}\n`);
  });
}
