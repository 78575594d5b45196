import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import avro from 'avsc';
import { projectRoot } from '../dataPath.ts';
import { SCHEMA_NAMES, type SchemaName } from './schemaNames.ts';

export { SCHEMA_NAMES, type SchemaName } from './schemaNames.ts';

/** Avro namespace shared by all schemas. */
export const NAMESPACE = 'bioaug.stream';

/** Default folder of the .avsc files. */
export const schemasDir = resolve(projectRoot, 'schemas');

/** A parsed schema: its JSON (with defaults and docs), avsc type and canonical fingerprint. */
export interface LoadedSchema {
  name: SchemaName;
  file: string;
  json: Record<string, unknown>;
  type: avro.Type;
  /** SHA-256 of the Parsing Canonical Form, hex. */
  fingerprint: string;
}

/** True when `name` is one of the project's schema names. */
export function isSchemaName(name: string): name is SchemaName {
  return (SCHEMA_NAMES as readonly string[]).includes(name);
}

/** Parses a schema JSON into an avsc type (unions unwrapped, so values are plain objects). */
export function typeOf(json: unknown): avro.Type {
  return avro.Type.forSchema(json as avro.Schema, { wrapUnions: false });
}

/** Hex SHA-256 fingerprint of a type's canonical form: the identity used by schema-ids.json. */
export function fingerprintOf(type: avro.Type): string {
  return type.fingerprint('sha256').toString('hex');
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1);
}

/** Reads and parses one .avsc file, checking its record name and namespace. */
export function loadSchemaFile(file: string): LoadedSchema {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`schemas: cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const type = typeOf(json);
  const name = shortName(type.name ?? '');
  if (!isSchemaName(name)) {
    throw new Error(`schemas: ${file} defines '${type.name}', expected one of ${SCHEMA_NAMES.join(', ')}`);
  }
  if (!type.name?.startsWith(`${NAMESPACE}.`)) {
    throw new Error(`schemas: ${file} must use namespace ${NAMESPACE}, got '${type.name}'`);
  }
  return { name, file, json, type, fingerprint: fingerprintOf(type) };
}

/** Loads the current version of every schema from `dir` (default: the project's schemas/). */
export function loadSchemas(dir: string = schemasDir): Map<SchemaName, LoadedSchema> {
  const out = new Map<SchemaName, LoadedSchema>();
  for (const name of SCHEMA_NAMES) {
    const file = join(dir, `${name}.avsc`);
    if (!existsSync(file)) throw new Error(`schemas: missing ${file}`);
    const s = loadSchemaFile(file);
    if (s.name !== name) throw new Error(`schemas: ${file} defines ${s.name}, expected ${name}`);
    out.set(name, s);
  }
  return out;
}

/** Loads the kept previous versions from `dir`/history (files `<Name>.v<N>.avsc`). */
export function loadHistory(dir: string = schemasDir): LoadedSchema[] {
  const hist = join(dir, 'history');
  if (!existsSync(hist)) return [];
  return readdirSync(hist)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => loadSchemaFile(join(hist, f)));
}
