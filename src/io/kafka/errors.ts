import { StreamError } from '../../engine/errors.ts';

/** A record that could not be turned into a value; it goes to the dead letters. */
export class InputError extends StreamError {
  constructor(name: string, message: string, hint?: string) {
    super(message, { stage: 'input', ...(hint !== undefined ? { hint } : {}) });
    this.name = name;
  }
}

/** A record larger than the configured `maxMessageBytes`. */
export class OversizedMessageError extends InputError {
  constructor(size: number, limit: number) {
    super(
      'OversizedMessageError',
      `message of ${size} bytes exceeds maxMessageBytes=${limit}`,
      'raise engine.maxMessageBytes (--set engine.maxMessageBytes=...) if such records are valid',
    );
  }
}

/** A text record whose bytes are not valid UTF-8. */
export class InvalidUtf8Error extends InputError {
  constructor(size: number) {
    super('InvalidUtf8Error', `message of ${size} bytes is not valid UTF-8`);
  }
}

/** A record with a null value (tombstone) where a value is required. */
export class NullValueError extends InputError {
  constructor() {
    super('NullValueError', 'record has a null value (tombstone); a value is required');
  }
}

/** A send that failed after every retry. */
export class SinkWriteError extends StreamError {
  constructor(message: string, retriable: boolean, cause?: unknown) {
    super(message, { stage: 'sink', retriable, cause });
  }
}
