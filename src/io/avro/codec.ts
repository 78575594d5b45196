// The codec of the project's messages: Confluent wire format (src/io/avro/wireFormat.ts) over the
// current schemas, writer schemas by id (writerSchemas.ts) and ids learned after start (schemaLearner.ts).
import type avro from 'avsc';
import { DecodeError, EncodeError } from './errors.ts';
import { restRegistry, type RegistryAuth, type RegistryClient } from './registry.ts';
import { SchemaLearner } from './schemaLearner.ts';
import { defaultSchemaIdFile } from './schemaIds.ts';
import {
  type LoadedSchema,
  type SchemaName,
  SCHEMA_NAMES,
  isSchemaName,
  loadSchemas,
  schemasDir,
} from './schemas.ts';
import type { SchemaInputs, SchemaTypes } from './types.generated.ts';
import { compileScanner, type Scanner } from './replacementChars.ts';
import { checkReadable, checkUtf8, decodeBody, readHeader, WireEncoder } from './wireFormat.ts';
import { localSchemaIds, registerSchemas, WriterSchemas } from './writerSchemas.ts';

export { WIRE_HEADER_BYTES } from './wireFormat.ts';
export { MAX_LEARNED_IDS } from './schemaLearner.ts';

/** Options of `createCodec`. */
export interface CodecOptions {
  /** Confluent Schema Registry URL; when set, schemas are registered there and ids come from it. */
  registryUrl?: string;
  /** Basic credentials of the registry (default: user:password in `registryUrl`, if any). */
  registryAuth?: RegistryAuth;
  /** Local schema-id file used without a registry (default schemas/schema-ids.json). */
  schemaIdFile?: string;
  /** Folder of the current .avsc files (default schemas/). */
  schemasDir?: string;
  /** Registry subject per schema (default: RecordNameStrategy, `bioaug.stream.<Name>`). */
  subject?: (name: SchemaName) => string;
  /** Injected registry client (tests, custom auth); default is REST over fetch at `registryUrl`. */
  registry?: RegistryClient;
}

/** Result of validating a value against a schema. */
export interface Validation {
  valid: boolean;
  /** Dotted paths of the offending fields (e.g. `entities.0.start`). */
  paths: string[];
}

/** Encodes and decodes the project's messages in Confluent wire format. */
export interface Codec {
  /** Validates then encodes `value` as magic byte + schema id + Avro binary; throws EncodeError. */
  encode<N extends SchemaName>(schema: N, value: SchemaInputs[N]): Buffer;
  /**
   * Decodes a wire-format buffer with the current reader schema (resolving older writer versions);
   * throws DecodeError. With `expected`, a message of another schema is a `wrong-schema` error.
   */
  decode<N extends SchemaName>(buf: Buffer, expected: N): SchemaTypes[N];
  decode(buf: Buffer): unknown;
  /**
   * Learns the writer schema of a wire-format buffer whose id is not known yet, from the registry
   * (ids registered after start, e.g. by an upgraded producer). Null when there is nothing to learn
   * (known id, no registry, not wire format), so a caller awaits only on a miss. Never rejects: a
   * failed lookup leaves the id unknown and `decode` says why. Lookups are shared, misses cached for
   * a while, and at most MAX_LEARNED_IDS ids are learned.
   */
  learnSchemaOf(buf: Buffer): Promise<void> | null;
  /** Like `decode`, but first fetches schema ids unknown so far from the registry (when one is set). */
  decodeAsync<N extends SchemaName>(buf: Buffer, expected: N): Promise<SchemaTypes[N]>;
  decodeAsync(buf: Buffer): Promise<unknown>;
  /** The schema name of a wire-format buffer, without decoding the body; throws DecodeError. */
  schemaOf(buf: Buffer): SchemaName;
  /** Checks a value against a schema, listing the paths of invalid fields. */
  validate(schema: SchemaName, value: unknown): Validation;
  /** Turns plain JSON (e.g. a JSONL line) into a schema value, filling defaults; throws DecodeError 'invalid-field'. */
  fromJson<N extends SchemaName>(schema: N, json: unknown): SchemaTypes[N];
  /** The id that `encode` writes for a schema. */
  schemaId(schema: SchemaName): number;
  /** The avsc type of the current version of a schema. */
  type(schema: SchemaName): avro.Type;
}

function invalidPaths(type: avro.Type, value: unknown): string[] {
  // The plain check is several times faster than one with an error hook; paths only on failure.
  if (type.isValid(value)) return [];
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.length ? path.join('.') : '(root)') });
  return paths;
}

/** A schema value from plain JSON (defaults filled, Buffer's JSON form accepted for bytes). */
function valueFromJson(s: LoadedSchema, json: unknown): unknown {
  let value: unknown;
  try {
    try {
      value = s.type.clone(json);
    } catch {
      // JSON has no bytes type: accept Buffer's own JSON form ({type:'Buffer',data}) as well.
      value = s.type.clone(json, { coerceBuffers: true });
    }
  } catch (e) {
    const paths = invalidPaths(s.type, json);
    throw new DecodeError(
      'invalid-field',
      `${s.name}: ${paths.length ? `invalid field(s) ${paths.join(', ')}` : (e as Error).message}`,
      paths,
    );
  }
  const paths = invalidPaths(s.type, value);
  if (paths.length)
    throw new DecodeError('invalid-field', `${s.name}: invalid field(s) ${paths.join(', ')}`, paths);
  return value;
}

function registryOf(opts: CodecOptions): RegistryClient | undefined {
  if (opts.registry) return opts.registry;
  if (!opts.registryUrl) return undefined;
  return restRegistry(opts.registryUrl, opts.registryAuth ? { auth: opts.registryAuth } : {});
}

/** Creates a codec over the project's schemas: local schema ids, or a Confluent Schema Registry. */
export async function createCodec(opts: CodecOptions = {}): Promise<Codec> {
  const current = loadSchemas(opts.schemasDir ?? schemasDir);
  const registry = registryOf(opts);
  const writers = new WriterSchemas(current);
  const idOf = registry
    ? await registerSchemas(registry, current, writers, opts.subject ?? ((n) => `bioaug.stream.${n}`))
    : localSchemaIds(opts.schemaIdFile ?? defaultSchemaIdFile, current, writers);
  const learner = registry ? new SchemaLearner(registry, writers) : undefined;
  const encoder = new WireEncoder();

  const scanners = new Map<SchemaName, Scanner | null>();
  const scannerOf = (name: SchemaName): Scanner | null => {
    if (!scanners.has(name)) scanners.set(name, compileScanner((current.get(name) as LoadedSchema).type));
    return scanners.get(name) ?? null;
  };
  const schemaByName = (name: string): LoadedSchema => {
    const s = isSchemaName(name) ? current.get(name) : undefined;
    if (!s) throw new Error(`codec: unknown schema '${name}'; valid: ${SCHEMA_NAMES.join(', ')}`);
    return s;
  };
  const whyUnknown = (id: number): string =>
    learner?.whyMissing(id) ?? (registry ? 'not in the registry' : 'not in the schema-id file');
  const header = (buf: Buffer) => readHeader(buf, writers, whyUnknown);
  const learnSchemaOf = (buf: Buffer): Promise<void> | null => learner?.learnSchemaOf(buf) ?? null;
  const decode = (buf: Buffer, expected?: SchemaName): unknown => {
    const w = header(buf);
    checkReadable(w, expected);
    const value = decodeBody(buf, w, (current.get(w.name) as LoadedSchema).type);
    checkUtf8(buf, w, value, scannerOf(w.name));
    return value;
  };

  return {
    encode(name, value) {
      const s = schemaByName(name);
      const paths = invalidPaths(s.type, value);
      if (paths.length > 0)
        throw new EncodeError(`encode ${name}: invalid field(s) ${paths.join(', ')}`, paths);
      return encoder.encode(s.type, value, idOf.get(s.name) as number);
    },
    decode: decode as Codec['decode'],
    learnSchemaOf,
    decodeAsync: (async (buf: Buffer, expected?: SchemaName) => {
      await learnSchemaOf(buf);
      return decode(buf, expected);
    }) as Codec['decodeAsync'],
    schemaOf: (buf) => header(buf).name,
    validate(name, value) {
      const paths = invalidPaths(schemaByName(name).type, value);
      return { valid: paths.length === 0, paths };
    },
    fromJson: (name, json) => valueFromJson(schemaByName(name), json) as never,
    schemaId: (name) => idOf.get(schemaByName(name).name) as number,
    type: (name) => schemaByName(name).type,
  };
}
