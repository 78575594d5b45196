// The writer schemas a codec can read, by schema id, and how their ids are found at start: registered
// in a Confluent Schema Registry (with each subject's older versions), or read from the local
// schema-id file. A writer whose schema differs from the current reader schema carries the resolver
// (or why none can be made).
import type avro from 'avsc';
import { SchemaRegistryError } from './errors.ts';
import type { RegistryClient } from './registry.ts';
import { readSchemaIds } from './schemaIds.ts';
import { fingerprintOf, type LoadedSchema, type SchemaName, typeOf } from './schemas.ts';

/** A schema that data may have been written with. */
export interface Writer {
  id: number;
  name: SchemaName;
  type: avro.Type;
  fingerprint: string;
  resolver?: avro.Resolver | undefined;
  /** Set when the reader cannot resolve this writer. */
  resolveError?: string | undefined;
}

/** Writer schemas by id, each resolved against the current reader schema of its name. */
export class WriterSchemas {
  private readonly byId = new Map<number, Writer>();

  constructor(private readonly current: Map<SchemaName, LoadedSchema>) {}

  get(id: number): Writer | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  add(id: number, name: SchemaName, type: avro.Type): Writer {
    const w: Writer = { id, name, type, fingerprint: fingerprintOf(type) };
    const reader = this.current.get(name) as LoadedSchema;
    if (w.fingerprint !== reader.fingerprint) {
      try {
        w.resolver = reader.type.createResolver(type);
      } catch (e) {
        w.resolveError = (e as Error).message;
      }
    }
    this.byId.set(id, w);
    return w;
  }
}

/**
 * Registers the current schemas under their subjects and learns each subject's older versions (so the
 * synchronous decode reads data written with them); returns the id `encode` writes per schema.
 */
export async function registerSchemas(
  registry: RegistryClient,
  current: Map<SchemaName, LoadedSchema>,
  writers: WriterSchemas,
  subject: (name: SchemaName) => string,
): Promise<Map<SchemaName, number>> {
  const idOf = new Map<SchemaName, number>();
  for (const s of current.values()) {
    const id = await registry.register(subject(s.name), s.json);
    idOf.set(s.name, id);
    writers.add(id, s.name, s.type);
    for (const v of await registry.versions(subject(s.name))) {
      if (!writers.has(v.id)) writers.add(v.id, s.name, typeOf(v.schema));
    }
  }
  return idOf;
}

/**
 * Reads every schema of the local schema-id file as a writer; returns the id `encode` writes per
 * schema. A current schema missing from the file (changed without `npm run gen:types`) is an error.
 */
export function localSchemaIds(
  file: string,
  current: Map<SchemaName, LoadedSchema>,
  writers: WriterSchemas,
): Map<SchemaName, number> {
  const idOf = new Map<SchemaName, number>();
  const ids = readSchemaIds(file);
  for (const e of ids.entries) writers.add(e.id, e.name, typeOf(e.schema));
  for (const s of current.values()) {
    const e = ids.entries.find((x) => x.name === s.name && x.fingerprint === s.fingerprint);
    if (!e) {
      throw new SchemaRegistryError(
        `codec: ${s.file} has no id in ${file} (schema changed?): run \`npm run gen:types\``,
        false,
      );
    }
    idOf.set(s.name, e.id);
  }
  return idOf;
}
