// The one error base class. Every typed error of the engine, its components, the CLI and the
// training recipes extends StreamError, so a catch site (a step's nack, the dead-letter writer, the
// CLI's last line) can read the same three facts from any of them: where it happened (`stage`, and
// `step` when a step id is known), whether trying again can help (`retriable`), and how to fix it
// (`hint`), without knowing the concrete class.

/** Where an error arose: the part of the pipeline, as dead letters and logs name it. */
export type ErrorStage =
  | 'config'
  | 'input'
  | 'decode'
  | 'encode'
  | 'text'
  | 'model'
  | 'augment'
  | 'source'
  | 'sink'
  | 'dead-letter'
  | 'registry'
  | 'topology'
  | 'eval'
  | 'cli'
  | 'training';

/** What every StreamError carries besides its message. */
export interface StreamErrorOptions {
  stage: ErrorStage;
  /** The step id (operator, reader, command) that raised it, when known. */
  step?: string;
  /** True when the same work may succeed if tried again (a broker hiccup), false when the input or config is wrong. Default false. */
  retriable?: boolean;
  /** How to fix it, in one line (e.g. the option to set or the valid values). */
  hint?: string;
  cause?: unknown;
}

/** Base of every typed error: `stage`, optional `step`, `retriable` and a fix `hint`. */
export class StreamError extends Error {
  readonly stage: ErrorStage;
  readonly step: string | undefined;
  readonly retriable: boolean;
  readonly hint: string | undefined;

  constructor(message: string, opts: StreamErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    // The concrete class's name, so logs and dead-letter headers (dlq.error.class) say which error it is.
    this.name = new.target.name;
    this.stage = opts.stage;
    this.step = opts.step;
    this.retriable = opts.retriable ?? false;
    this.hint = opts.hint;
  }
}
