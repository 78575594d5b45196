/**
 * Effective configuration of a bioaug-stream process. The parts live in src/cli/config/ by concern: the
 * schema, env/flag tables, the YAML file, validation messages, redaction, Kafka settings; this module loads
 * and re-exports them (the API the commands use).
 *
 * API (used by the CLI commands):
 *   loadConfig({ file?, env?, flags? }): Config         precedence flags > env > file > defaults; throws ConfigError
 *   addConfigOptions(cmd: Command): Command             registers --config, --brokers, ..., --set, --print-config
 *   printConfig(config): string                         YAML of the effective config, secrets redacted
 *   redactConfig(config): Config                        the same object with secrets replaced by '***'
 *   kafkaConnection(config): KafkaConnectionSettings    options for createKafka() in src/io/kafka/client.ts
 *   kafkaClientConfig(config): KafkaConfig              raw kafkajs client options (brokers, ssl, sasl) from the config
 *   applyProcessConfig(config): void                    exports data.root as BIOSTREAM_DATA and sets the log level
 *   ENV_VARS / FLAG_OPTIONS                              the tables mapping env names and flags to config keys
 */
import { resolve } from 'node:path';
import { logger } from '../obs/logger.ts';
import { ConfigError, formatProblems } from './config/configError.ts';
import { coerce, ENV_VARS, FLAG_OPTIONS } from './config/configOptions.ts';
import { describeIssue } from './config/describeIssue.ts';
import { parseScalar, readYaml } from './config/readYaml.ts';
import { Config } from './config/schema.ts';
import { mergeInto, setPath, type Tree } from './config/tree.ts';

export { ConfigError } from './config/configError.ts';
export { addConfigOptions, ENV_VARS, FLAG_OPTIONS } from './config/configOptions.ts';
export {
  kafkaClientConfig,
  kafkaConnection,
  registryOptions,
  tlsOptions,
  type KafkaConnectionSettings,
} from './config/kafkaSettings.ts';
export { printConfig, redactConfig } from './config/redact.ts';
export type { Config } from './config/schema.ts';

export type LoadConfigOptions = {
  /** YAML file; falls back to flags.config, then env BIOSTREAM_CONFIG. */
  file?: string;
  /** Environment (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Parsed commander options: any key of FLAG_OPTIONS, plus `config` and `set` (key=value strings). */
  flags?: Record<string, unknown>;
};

/** Loads the effective config: defaults, then the YAML file, then env, then flags (each overriding the last). */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const origins = new Map<string, string>();
  const merged: Tree = {};
  const problems: string[] = [];

  const file =
    opts.file ?? (typeof flags.config === 'string' ? flags.config : undefined) ?? env.BIOSTREAM_CONFIG;
  if (file) mergeInto(merged, readYaml(file), [], origins, `file ${file}`);
  setFromEnv(merged, env, origins, problems);
  setFromFlags(merged, flags, origins, problems);
  setFromSets(merged, flags.set, origins, problems);
  if (problems.length) throw new ConfigError(formatProblems(problems), problems);
  return validate(merged, origins);
}

function setFromEnv(
  merged: Tree,
  env: Record<string, string | undefined>,
  origins: Map<string, string>,
  problems: string[],
): void {
  for (const [name, { key, kind }] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const origin = `env ${name}`;
    const value = coerce(raw, kind, key, origin, problems);
    if (value !== undefined) setPath(merged, key, value, origins, origin);
  }
}

function setFromFlags(
  merged: Tree,
  flags: Record<string, unknown>,
  origins: Map<string, string>,
  problems: string[],
): void {
  for (const [name, { flag, key, kind }] of Object.entries(FLAG_OPTIONS)) {
    const raw = flags[name];
    if (raw === undefined) continue;
    const origin = `flag ${flag.split(' ')[0]}`;
    const value = typeof raw === 'string' ? coerce(raw, kind, key, origin, problems) : raw;
    if (value !== undefined) setPath(merged, key, value, origins, origin);
  }
}

/** --set key=value (repeatable); the value is YAML so numbers, booleans and lists keep their types. */
function setFromSets(merged: Tree, set: unknown, origins: Map<string, string>, problems: string[]): void {
  const sets = set === undefined ? [] : Array.isArray(set) ? set : [set];
  for (const item of sets) {
    const m = /^([A-Za-z0-9_.-]+)=(.*)$/s.exec(String(item));
    if (!m) {
      problems.push(
        `flag --set "${String(item)}": expected key.path=value, e.g. --set engine.maxInFlight=500`,
      );
      continue;
    }
    setPath(merged, m[1]!, parseScalar(m[2]!), origins, `flag --set ${m[1]}`);
  }
}

/** Validates a plain object (e.g. from a test or a topology) as a Config, applying defaults. */
export function parseConfig(input: unknown, origin = 'input'): Config {
  const origins = new Map<string, string>([['', origin]]);
  return validate(input, origins);
}

function validate(input: unknown, origins: Map<string, string>): Config {
  const result = Config.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, input, origins));
  throw new ConfigError(formatProblems(problems), problems);
}

/** Applies process-wide settings: BIOSTREAM_DATA for dataPath() and the root logger level. */
export function applyProcessConfig(config: Config): void {
  if (config.data.root) process.env.BIOSTREAM_DATA = resolve(config.data.root);
  logger.level = config.log.level;
}
