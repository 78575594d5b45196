/** Readable validation problems: the key, its value (redacted), where it came from, what is valid. */
import { z } from 'zod';
import { redactValue } from './redact.ts';
import { Config } from './schema.ts';
import { getPath } from './tree.ts';

export function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  origins: Map<string, string>,
): string[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const valid = validKeysAt(path);
    return issue.keys.map((k) => {
      const key = [...path, k].join('.');
      const suggestion = closest(k, valid);
      return (
        `${key} (${originOf(key, origins)}): unknown key` +
        (suggestion ? `, did you mean ${[...path, suggestion].join('.')}?` : '') +
        `; valid keys${path.length ? ` under ${path.join('.')}` : ''}: ${valid.join(', ')}`
      );
    });
  }
  const key = path.join('.') || '(root)';
  const value = getPath(input, path);
  const shown = value === undefined ? 'missing' : JSON.stringify(redactValue(key, value));
  let detail = issue.message;
  if (issue.code === 'invalid_value') detail = `expected one of ${issue.values.map(String).join(', ')}`;
  else if (issue.code === 'invalid_type') detail = `expected ${issue.expected}`;
  return [`${key} = ${shown} (${originOf(key, origins)}): ${detail}`];
}

function originOf(key: string, origins: Map<string, string>): string {
  const parts = key.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const o = origins.get(parts.slice(0, n).join('.'));
    if (o) return `from ${o}`;
  }
  // An unknown section set through one of its children (e.g. --set metricz.port=1).
  for (const [k, o] of origins) if (k.startsWith(`${key}.`)) return `from ${o}`;
  // A key nobody set that fails validation is a required field left out.
  return 'not set';
}

// Walks the zod schema to list the keys an object accepts at a path (for "valid keys" hints).
function validKeysAt(path: string[]): string[] {
  let schema: unknown = Config;
  for (const part of [...path, null]) {
    for (let i = 0; i < 5; i++) {
      const def = (schema as { _zod?: { def?: { innerType?: unknown } } })._zod?.def;
      if (def?.innerType) schema = def.innerType;
      else break;
    }
    if (!(schema instanceof z.ZodObject)) return [];
    if (part === null) return Object.keys(schema.shape);
    schema = schema.shape[part];
  }
  return [];
}

function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
