/** Why a model step failed; `retriable` is false for broken bundles and bad input, true for transient runtime faults. */
export type ModelErrorCode = 'bundle' | 'input' | 'runtime' | 'config';

/** A typed error from the model runtime: names the step or file and says what was expected. */
export class ModelError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ModelError';
    this.retriable = opts.retriable ?? code === 'runtime';
  }
}

/** Error for a bundle that is missing a file or does not match its description. */
export function bundleError(file: string, message: string, cause?: unknown): ModelError {
  return new ModelError('bundle', `model bundle: ${file}: ${message}`, { cause });
}
