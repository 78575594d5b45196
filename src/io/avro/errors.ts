import { StreamError } from '../../engine/errors.ts';

/** Why a message could not be decoded; each kind is a dead-letter reason. */
export type DecodeErrorKind = 'undecodable' | 'unknown-schema-id' | 'invalid-field' | 'wrong-schema';

/** A message that cannot be decoded; never retriable (the same bytes fail the same way). */
export class DecodeError extends StreamError {
  constructor(
    readonly kind: DecodeErrorKind,
    message: string,
    /** Field paths at fault, for `invalid-field`. */
    readonly paths: string[] = [],
    /** The schema id read from the wire header, when one was read. */
    readonly schemaId?: number,
  ) {
    super(message, { stage: 'decode' });
  }
}

/** A value that does not match its schema, caught before encoding. Not retriable. */
export class EncodeError extends StreamError {
  readonly kind = 'invalid-field' as const;
  constructor(
    message: string,
    readonly paths: string[],
  ) {
    super(message, { stage: 'encode' });
  }
}

/** Configuration or registry failure while setting up the codec (registry errors are retriable). */
export class SchemaRegistryError extends StreamError {
  constructor(message: string, retriable: boolean, hint?: string) {
    super(message, { stage: 'registry', retriable, ...(hint !== undefined ? { hint } : {}) });
  }
}
