// `bioaug-stream run <topology>`: wires sources and sinks from URI flags (Kafka or files), runs the
// topology until its inputs end (files) or SIGINT/SIGTERM (Kafka: stop fetching, drain, flush, commit).
// The options are declared here; the run itself (runAction.ts, with Kafka, Avro, the console) is imported
// when the command runs, so `--help` and the other commands do not load it.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { TopologyModule, TopologyStreamNames } from '../../engine/topology.ts';
import { addConfigOptions } from '../config/configOptions.ts';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

// The topologies beside this code: topologies/*.ts from the sources, dist/topologies/*.js once compiled.
const codeExt = extname(fileURLToPath(import.meta.url));
const topologiesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../topologies');

/** Names of the topologies under topologies/. */
export function availableTopologies(dir = topologiesDir): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(codeExt))
        .map((f) => f.slice(0, -codeExt.length))
        .sort()
    : [];
}

/** Loads topologies/<name>.ts; the error lists the valid names. */
export async function loadTopology(name: string): Promise<TopologyModule> {
  const names = availableTopologies();
  if (!names.includes(name))
    throw new Error(`run: unknown topology '${name}'; valid: ${names.join(', ') || '(none found)'}`);
  const mod = (await import(
    pathToFileURL(join(topologiesDir, `${name}${codeExt}`)).href
  )) as Partial<TopologyModule> & { io?: TopologyStreamNames };
  if (typeof mod.build !== 'function' || typeof mod.resolve !== 'function')
    throw new Error(
      `run: topologies/${name}.ts must export resolve(config) and build(sources, sinks, inputs) functions`,
    );
  // A topology file written before `streamNames` was named so exports the same object as `io`
  // (deprecated; the README documented that name).
  if (mod.streamNames === undefined && mod.io !== undefined)
    return { ...mod, streamNames: mod.io } as TopologyModule;
  return mod as TopologyModule;
}

/** Registers `run`. */
export function register(program: Command): void {
  const cmd = program
    .command('run <topology>')
    .description(
      'run a topology: --source [name=]kafka:topic|pubtator:path|jsonl:path|conll:path|pubmed-xml:path|stdin:fmt',
    )
    .addHelpText(
      'after',
      '\nTopology options: `bioaug-stream describe <topology>` lists every key with its default; set them with\n' +
        '--set topologies.<topology>.<key>=<value>, and `run <topology> --print-config` shows the effective values.',
    )
    .option('--source <[name=]uri>', 'an input (repeatable)', collect, [])
    .option(
      '--sink <[name=]uri>',
      'an output: kafka:topic[?schema=Name], jsonl:path, pubtator:path, stdout:jsonl (repeatable)',
      collect,
      [],
    )
    .option(
      '--dead-letters <uri>',
      'dead letters: kafka:topic, jsonl:path, stdout:jsonl, stderr: (one line each) or stderr:jsonl (whole records)',
      'stderr:',
    )
    .option(
      '--max-dead-letters <n>',
      'exit with code 1 when more records than this were dead-lettered (default: only when nothing was output)',
    )
    .option(
      '--console',
      'serve the live console at / of the metrics server even when it listens beyond loopback (default: on loopback only)',
    )
    .option('--no-console', 'do not serve the live console page at / of the metrics server')
    .option(
      '--progress-ms <ms>',
      'print a status line to stderr this often, led by a progress bar and ETA when the inputs are files; a JSON log line (progress 0..1, etaSeconds) when stderr is not a terminal (default 10000 on a terminal or with a Kafka source; 0: never)',
    );
  addConfigOptions(cmd);
  cmd.action(async (topology: string, flags: Record<string, unknown>) => {
    const { runAction } = await import('./runAction.ts');
    await runAction(topology, flags);
  });
}
