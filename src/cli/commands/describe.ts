// `bioaug-stream describe [topology]`: what a topology reads and writes (with the Avro record of each
// sink) and every config key it accepts, with its default, as `--set topologies.<name>.<key>=...`.
import type { Command } from 'commander';
import type { TopologyModule } from '../../engine/topology.ts';
import { availableTopologies, loadTopology } from './run.ts';

/** Registers `describe`. */
export function register(program: Command): void {
  program
    .command('describe [topology]')
    .description(
      'list the topologies, or one topology: its sources, sinks (Avro records) and config keys with defaults',
    )
    .action(async (topology?: string) => {
      const names = topology ? [topology] : availableTopologies();
      for (const name of names)
        process.stdout.write(describeTopology(name, await loadTopology(name), !topology));
    });
}

/** The text `describe` prints for one topology (`brief`: no config keys). */
export function describeTopology(name: string, mod: TopologyModule, brief = false): string {
  const schemas = mod.io.sinkSchemas ?? {};
  const lines = [
    `${name}`,
    `  sources: ${mod.io.sources.join(', ')}`,
    `  sinks:   ${mod.io.sinks.map((s) => (schemas[s] ? `${s} (${schemas[s]})` : s)).join(', ')}`,
  ];
  if (!brief && mod.configSchema) {
    lines.push(
      `  config (--set topologies.${name}.<key>=<value>, or a config file's topologies.${name} block):`,
    );
    for (const [key, value] of flatten(mod.configSchema.parse({})))
      lines.push(`    ${key} = ${JSON.stringify(value)}`);
  }
  return `${lines.join('\n')}\n${brief ? '' : '\n'}`;
}

/** Leaves of a plain object as dotted keys (arrays and empty objects are leaves). */
export function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [[prefix, value]];
  return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}
