export { createCodec, WIRE_HEADER_BYTES, type Codec, type CodecOptions, type Validation } from './codec.ts';
export { DecodeError, EncodeError, SchemaRegistryError, type DecodeErrorKind } from './errors.ts';
export { restRegistry, splitRegistryUrl, type RegistryAuth, type RegistryClient } from './registry.ts';
export {
  SCHEMA_NAMES,
  NAMESPACE,
  isSchemaName,
  loadSchemas,
  loadHistory,
  loadSchemaFile,
  typeOf,
  fingerprintOf,
  type SchemaName,
  type LoadedSchema,
} from './schemas.ts';
export { readSchemaIds, assignSchemaIds, defaultSchemaIdFile, type SchemaIdEntry } from './schemaIds.ts';
export type * from './types.generated.ts';
