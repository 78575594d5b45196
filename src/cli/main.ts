import { Command, CommanderError } from 'commander';

/** Command modules register their subcommands on the root program. */
export type CommandModule = { register(program: Command): void };

// Each subcommand lives in its own file under commands/; add new ones here. A command file declares the
// name, description and options and imports its implementation (models, Kafka, Avro, topologies) inside
// its action, so `--help` and a command's start load only these declarations
// (test/integration/cliStartup.test.ts checks it).
const modules: Array<() => Promise<CommandModule>> = [
  () => import('./commands/augment.ts'),
  () => import('./commands/trainingPairs.ts'),
  () => import('./commands/eval.ts'),
  () => import('./commands/train.ts'),
  () => import('./commands/split.ts'),
  () => import('./commands/demo.ts'),
  () => import('./commands/study.ts'),
  () => import('./commands/run.ts'),
  () => import('./commands/describe.ts'),
  () => import('./commands/produce.ts'),
  () => import('./commands/consume.ts'),
  () => import('./commands/topics.ts'),
  () => import('./commands/broker.ts'),
];

/** Builds the `bioaug-stream` program and runs it; rejects with the error of a failed command. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('bioaug-stream')
    .description('Streaming dataflow engine for biomedical text (Kafka or files, ONNX Runtime models)')
    .showHelpAfterError()
    .exitOverride();
  for (const load of modules) (await load()).register(program);
  await program.parseAsync(argv.filter((a) => a !== '--debug'));
}

/** The process entry point (bin.mjs): errors print as one line (plus a hint), exit code 1. */
export async function cli(argv: string[]): Promise<void> {
  // --debug anywhere on the line (or LOG_LEVEL=debug, BIOSTREAM_DEBUG=1) prints stack traces of errors.
  const debug =
    argv.includes('--debug') || process.env.LOG_LEVEL === 'debug' || process.env.BIOSTREAM_DEBUG === '1';
  try {
    await main(argv);
  } catch (e) {
    // Commander already printed its own usage errors (and --help/--version exit through here with code 0).
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(formatCliError(e, debug));
    process.exitCode = 1;
  }
}

/** One line per error (its cause chain joined), a hint line when one is known; the stack only when asked. */
export function formatCliError(e: unknown, withStack = false): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth += 1) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg.replace(/\s*\n\s*/g, ' '));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  // The class when it says more than "Error" (BrokersUnreachableError, FileUriError, ...).
  const name = e instanceof Error && e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const line = `bioaug-stream: error: ${name}${parts.join(': ') || 'unknown error'}\n`;
  const hint = withStack && !(e as { hint?: unknown } | null)?.hint ? undefined : hintFor(e);
  const stack = withStack && e instanceof Error && e.stack ? `${e.stack}\n` : '';
  return line + (hint ? `  hint: ${hint}\n` : '') + stack;
}

function hintFor(e: unknown): string | undefined {
  const h = (e as { hint?: unknown } | null)?.hint;
  if (typeof h === 'string' && h) return h;
  const name = e instanceof Error ? e.name : '';
  const msg = e instanceof Error ? e.message : '';
  if (name.startsWith('KafkaJS') && /connect|ECONNREFUSED|retries|broker/i.test(`${name} ${msg}`))
    return 'no Kafka broker answered: check --brokers / KAFKA_BROKERS, or run on files (--source pubtator:<path>, --sink <name>=jsonl:<path>)';
  if (/ENOENT/.test(msg))
    return 'a path does not exist: check it (relative paths start from the current directory)';
  return 'add --debug to print the stack trace';
}
