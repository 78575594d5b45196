import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, formatProblems } from './configError.ts';
import type { Tree } from './tree.ts';

/** The config file's sections; an unreadable file or YAML error is a ConfigError naming line and column. */
export function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read (${(err as Error).message})`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => {
      const line = e.linePos?.[0];
      return `config file ${file}${line ? ` line ${line.line} column ${line.col}` : ''}: ${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(formatProblems(problems), problems);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `config file ${file}: the top level must be a mapping of sections (kafka:, engine:, ...)`,
    );
  }
  return value as Tree;
}

/** A --set value as YAML (numbers, booleans and lists keep their types), else the text itself. */
export function parseScalar(text: string): unknown {
  const doc = parseDocument(text);
  return doc.errors.length ? text : (doc.toJS() as unknown);
}
