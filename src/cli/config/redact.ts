import { stringify } from 'yaml';
import type { Config } from './schema.ts';
import { isTree } from './tree.ts';

const secretKey = /(password|secret|token|api[-_]?key|credentials?)$/i;

export function redactValue(key: string, value: unknown): unknown {
  const leaf = key.split('.').pop() ?? '';
  if (secretKey.test(leaf) && value !== undefined) return '***';
  if (typeof value === 'string') return redactUrl(value);
  return value;
}

// user:pass@host in a URL (e.g. a schema registry URL) is a credential too.
function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i, (_, scheme: string) => `${scheme}***@`);
}

function redactTree(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => redactTree(v, key));
  if (isTree(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactTree(v, key ? `${key}.${k}` : k)]),
    );
  }
  return redactValue(key, value);
}

/** A copy of the config with passwords, secrets, tokens and URL credentials replaced by '***'. */
export function redactConfig(config: Config): Config {
  return redactTree(config, '') as Config;
}

/** The effective config as YAML for --print-config, secrets redacted. */
export function printConfig(config: Config): string {
  return stringify(redactConfig(config), { lineWidth: 0 });
}
