import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadedSchema, type SchemaName, isSchemaName, schemasDir } from './schemas.ts';

/** One registered schema version: ids are never reused or changed once committed. */
export interface SchemaIdEntry {
  id: number;
  name: SchemaName;
  fingerprint: string;
  /** The full schema JSON of that version, so old data stays readable after the .avsc changes. */
  schema: Record<string, unknown>;
}

/** Contents of schemas/schema-ids.json. */
export interface SchemaIdFile {
  entries: SchemaIdEntry[];
}

/** Default location of the committed schema-id file. */
export const defaultSchemaIdFile = join(schemasDir, 'schema-ids.json');

/** Reads a schema-id file, checking that ids and name+fingerprint pairs are unique. */
export function readSchemaIds(file: string = defaultSchemaIdFile): SchemaIdFile {
  if (!existsSync(file)) return { entries: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`schema ids: ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const entries = (parsed as SchemaIdFile | null)?.entries;
  if (!Array.isArray(entries)) throw new Error(`schema ids: ${file} must hold {"entries": [...]}`);
  const ids = new Set<number>();
  const keys = new Set<string>();
  entries.forEach((e, i) => {
    if (!Number.isInteger(e.id) || e.id < 1 || !isSchemaName(e.name) || typeof e.fingerprint !== 'string') {
      throw new Error(
        `schema ids: ${file} entry ${i} needs a positive integer id, a schema name and a fingerprint`,
      );
    }
    if (ids.has(e.id)) throw new Error(`schema ids: ${file} reuses id ${e.id}`);
    const key = `${e.name}:${e.fingerprint}`;
    if (keys.has(key)) throw new Error(`schema ids: ${file} lists ${e.name} version ${e.fingerprint} twice`);
    ids.add(e.id);
    keys.add(key);
  });
  return { entries };
}

/**
 * Returns the file with an id for every given schema version: existing ids are kept as they are and
 * new versions get the next free id, so data written under an old id stays decodable.
 */
export function assignSchemaIds(current: SchemaIdFile, schemas: LoadedSchema[]): SchemaIdFile {
  const entries = [...current.entries];
  let next = entries.reduce((m, e) => Math.max(m, e.id), 0) + 1;
  for (const s of schemas) {
    if (entries.some((e) => e.name === s.name && e.fingerprint === s.fingerprint)) continue;
    entries.push({ id: next++, name: s.name, fingerprint: s.fingerprint, schema: s.json });
  }
  return { entries };
}

/** Serializes a schema-id file deterministically (stable order, 2-space JSON, final newline). */
export function formatSchemaIds(file: SchemaIdFile): string {
  const entries = [...file.entries].sort((a, b) => a.id - b.id);
  return JSON.stringify({ entries }, null, 2) + '\n';
}
