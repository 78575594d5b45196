import type avro from 'avsc';
import { DecodeError, EncodeError, SchemaRegistryError } from './errors.ts';
import { restRegistry, type RegistryAuth, type RegistryClient } from './registry.ts';
import { defaultSchemaIdFile, readSchemaIds } from './schemaIds.ts';
import {
  type LoadedSchema,
  type SchemaName,
  SCHEMA_NAMES,
  fingerprintOf,
  isSchemaName,
  loadSchemas,
  schemasDir,
  typeOf,
} from './schemas.ts';
import type { SchemaInputs, SchemaTypes } from './types.generated.ts';
import { compileScanner, replacementCharPaths, type Scanner } from './replacementChars.ts';

/** Size of the Confluent wire header: magic byte 0 + 4-byte big-endian schema id. */
export const WIRE_HEADER_BYTES = 5;

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

/** Most schema ids a codec learns from the registry after start (memory bound against id floods). */
export const MAX_LEARNED_IDS = 1024;
/** How long a registry miss (unknown id) is remembered before it is asked again. */
const MISS_TTL_MS = 30_000;
/** How long a failed registry lookup (registry down) is remembered before it is tried again. */
const ERROR_TTL_MS = 2_000;

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

interface Writer {
  id: number;
  name: SchemaName;
  type: avro.Type;
  fingerprint: string;
  resolver?: avro.Resolver | undefined;
  /** Set when the reader cannot resolve this writer. */
  resolveError?: string | undefined;
}

function invalidPaths(type: avro.Type, value: unknown): string[] {
  // The plain check is several times faster than one with an error hook; paths only on failure.
  if (type.isValid(value)) return [];
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.length ? path.join('.') : '(root)') });
  return paths;
}

/** Creates a codec over the project's schemas: local schema ids, or a Confluent Schema Registry. */
export async function createCodec(opts: CodecOptions = {}): Promise<Codec> {
  const current = loadSchemas(opts.schemasDir ?? schemasDir);
  const writers = new Map<number, Writer>();
  const idOf = new Map<SchemaName, number>();
  const registry =
    opts.registry ??
    (opts.registryUrl
      ? restRegistry(opts.registryUrl, opts.registryAuth ? { auth: opts.registryAuth } : {})
      : undefined);

  const addWriter = (id: number, name: SchemaName, type: avro.Type): Writer => {
    const w: Writer = { id, name, type, fingerprint: fingerprintOf(type) };
    const reader = current.get(name) as LoadedSchema;
    if (w.fingerprint !== reader.fingerprint) {
      try {
        w.resolver = reader.type.createResolver(type);
      } catch (e) {
        w.resolveError = (e as Error).message;
      }
    }
    writers.set(id, w);
    return w;
  };

  if (registry) {
    const subject = opts.subject ?? ((n: SchemaName) => `bioaug.stream.${n}`);
    for (const s of current.values()) {
      const id = await registry.register(subject(s.name), s.json);
      idOf.set(s.name, id);
      addWriter(id, s.name, s.type);
      // Learn the subject's older versions now, so the synchronous `decode` reads data written with them.
      for (const v of await registry.versions(subject(s.name))) {
        if (!writers.has(v.id)) addWriter(v.id, s.name, typeOf(v.schema));
      }
    }
  } else {
    const file = opts.schemaIdFile ?? defaultSchemaIdFile;
    const ids = readSchemaIds(file);
    for (const e of ids.entries) addWriter(e.id, e.name, typeOf(e.schema));
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
  }

  let scratch = Buffer.allocUnsafe(64 * 1024);
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

  const header = (buf: Buffer): Writer => {
    if (!Buffer.isBuffer(buf)) throw new DecodeError('undecodable', 'decode: input is not a Buffer');
    if (buf.length < WIRE_HEADER_BYTES) {
      throw new DecodeError(
        'undecodable',
        `decode: ${buf.length} bytes, shorter than the 5-byte wire header`,
      );
    }
    if (buf[0] !== 0) {
      throw new DecodeError(
        'undecodable',
        `decode: magic byte is ${buf[0]}, expected 0 (Confluent wire format)`,
      );
    }
    const id = buf.readUInt32BE(1);
    const w = writers.get(id);
    if (!w) {
      const why = misses.get(id)?.why ?? (registry ? 'not in the registry' : 'not in the schema-id file');
      throw new DecodeError('unknown-schema-id', `decode: unknown schema id ${id} (${why})`, [], id);
    }
    return w;
  };

  // Registry lookups after start: shared while in flight, misses remembered for a while (bounded).
  const lookups = new Map<number, Promise<void>>();
  const misses = new Map<number, { until: number; why: string }>();
  let learned = 0;
  const miss = (id: number, why: string, ttl: number): void => {
    if (misses.size >= MAX_LEARNED_IDS) misses.delete(misses.keys().next().value as number);
    misses.set(id, { until: Date.now() + ttl, why });
  };
  const learnSchemaOf = (buf: Buffer): Promise<void> | null => {
    if (!registry || !Buffer.isBuffer(buf) || buf.length < WIRE_HEADER_BYTES || buf[0] !== 0) return null;
    const id = buf.readUInt32BE(1);
    if (writers.has(id)) return null;
    const shared = lookups.get(id);
    if (shared) return shared;
    const m = misses.get(id);
    if (m && m.until > Date.now()) return null;
    if (learned >= MAX_LEARNED_IDS) {
      miss(
        id,
        `not learned: ${MAX_LEARNED_IDS} ids already learned from the registry since start`,
        MISS_TTL_MS,
      );
      return null;
    }
    const p = (async () => {
      try {
        const json = await registry.schemaById(id);
        if (!json) return miss(id, 'not in the registry', MISS_TTL_MS);
        const t = typeOf(json);
        const name = (t.name ?? '').slice((t.name ?? '').lastIndexOf('.') + 1);
        if (!isSchemaName(name))
          return miss(id, `the registry has it as ${t.name}, not one of ours`, MISS_TTL_MS);
        addWriter(id, name, t);
        learned += 1;
        misses.delete(id);
      } catch (e) {
        miss(id, `registry lookup failed: ${(e as Error).message}`, ERROR_TTL_MS);
      } finally {
        lookups.delete(id);
      }
    })();
    lookups.set(id, p);
    return p;
  };

  const decode = (buf: Buffer, expected?: SchemaName): unknown => {
    const w = header(buf);
    if (expected !== undefined && w.name !== expected) {
      throw new DecodeError(
        'wrong-schema',
        `decode: expected ${expected}, got ${w.name} (schema id ${w.id})`,
        [],
        w.id,
      );
    }
    if (w.resolveError) {
      throw new DecodeError(
        'wrong-schema',
        `decode: ${w.name} schema id ${w.id} cannot be read with the current schema: ${w.resolveError}`,
        [],
        w.id,
      );
    }
    const reader = (current.get(w.name) as LoadedSchema).type;
    let res: { value: unknown; offset: number };
    try {
      res = reader.decode(buf, WIRE_HEADER_BYTES, w.resolver);
    } catch (e) {
      throw new DecodeError(
        'undecodable',
        `decode: ${w.name} body is corrupt: ${(e as Error).message}`,
        [],
        w.id,
      );
    }
    if (res.offset < 0) {
      throw new DecodeError(
        'undecodable',
        `decode: ${w.name} body is truncated (${buf.length} bytes)`,
        [],
        w.id,
      );
    }
    if (res.offset !== buf.length) {
      throw new DecodeError(
        'undecodable',
        `decode: ${buf.length - res.offset} trailing bytes after the ${w.name} body`,
        [],
        w.id,
      );
    }
    // U+FFFD may be genuine; it came from invalid UTF-8 only if re-encoding does not give the same bytes.
    if (scannerOf(w.name)?.(res.value)) {
      const suspicious: string[] = [];
      replacementCharPaths(res.value, '', suspicious);
      const asWritten = w.type.decode(buf, WIRE_HEADER_BYTES).value;
      if (!w.type.toBuffer(asWritten).equals(buf.subarray(WIRE_HEADER_BYTES))) {
        throw new DecodeError(
          'invalid-field',
          `decode: invalid UTF-8 in ${w.name} field(s) ${suspicious.join(', ')}`,
          suspicious,
          w.id,
        );
      }
    }
    return res.value;
  };

  const codec: Codec = {
    encode(name, value) {
      const s = schemaByName(name);
      const paths = invalidPaths(s.type, value);
      if (paths.length > 0)
        throw new EncodeError(`encode ${name}: invalid field(s) ${paths.join(', ')}`, paths);
      // Encode straight after the header in a reusable scratch buffer: one copy per message.
      let end = s.type.encode(value, scratch, WIRE_HEADER_BYTES);
      while (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
        end = s.type.encode(value, scratch, WIRE_HEADER_BYTES);
      }
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      out[0] = 0;
      out.writeUInt32BE(idOf.get(s.name) as number, 1);
      return out;
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
    fromJson(name, json) {
      const s = schemaByName(name);
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
          `${name}: ${paths.length ? `invalid field(s) ${paths.join(', ')}` : (e as Error).message}`,
          paths,
        );
      }
      const paths = invalidPaths(s.type, value);
      if (paths.length)
        throw new DecodeError('invalid-field', `${name}: invalid field(s) ${paths.join(', ')}`, paths);
      return value as never;
    },
    schemaId: (name) => idOf.get(schemaByName(name).name) as number,
    type: (name) => schemaByName(name).type,
  };
  return codec;
}
