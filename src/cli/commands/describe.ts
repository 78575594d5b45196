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
  const schemas = mod.streamNames.sinkSchemas ?? {};
  const lines = [
    `${name}`,
    `  sources: ${mod.streamNames.sources.join(', ')}`,
    `  sinks:   ${mod.streamNames.sinks.map((s) => (schemas[s] ? `${s} (${schemas[s]})` : s)).join(', ')}`,
  ];
  if (!brief && mod.configSchema) {
    lines.push(
      `  config (--set topologies.${name}.<key>=<value>, or a config file's topologies.${name} block):`,
    );
    const keys = configKeys(mod.configSchema);
    const shown = keys.map((k) => `    ${k.key} = ${k.set ? JSON.stringify(k.value) : '(unset)'}`);
    const width = Math.min(60, Math.max(...shown.map((l) => l.length)));
    keys.forEach((k, i) =>
      lines.push(`${shown[i]!.padEnd(width)}  # ${k.description ?? '(no description)'}`),
    );
  }
  return `${lines.join('\n')}\n${brief ? '' : '\n'}`;
}

/** One option of a topology: its dotted key, default (`set` false when it has none) and description. */
export interface ConfigKey {
  key: string;
  value: unknown;
  set: boolean;
  description: string | undefined;
}

// The zod 4 schema internals the walk reads: the kind, wrapped schema and object shape.
type ZodLike = {
  _zod: { def: { type: string; innerType?: ZodLike; in?: ZodLike; shape?: Record<string, ZodLike> } };
  description?: string;
};
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/**
 * Every option of a config schema (zod object), in declaration order: nested objects as dotted keys,
 * the default from parsing `{}`, the description given with `.describe()` on the field (or on a wrapper).
 */
export function configKeys(schema: { parse(config: unknown): unknown }): ConfigKey[] {
  const defaults = schema.parse({});
  const out: ConfigKey[] = [];
  const walk = (s: ZodLike, path: string[], description: string | undefined): void => {
    const def = s._zod.def;
    const d = description ?? s.description;
    if (WRAPPERS.has(def.type) && def.innerType) return walk(def.innerType, path, d);
    if (def.type === 'pipe' && def.in) return walk(def.in, path, d);
    if (def.type === 'object' && def.shape) {
      for (const [k, v] of Object.entries(def.shape)) walk(v, [...path, k], undefined);
      return;
    }
    const value = path.reduce<unknown>(
      (o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      defaults,
    );
    out.push({ key: path.join('.'), value, set: value !== undefined, description: d });
  };
  walk(schema as unknown as ZodLike, [], undefined);
  return out;
}

/** Leaves of a plain object as dotted keys (arrays and empty objects are leaves). */
export function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [[prefix, value]];
  return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}
