import { StreamError } from '../engine/errors.ts';

/** Why a model step failed; `retriable` is false for broken bundles and bad input, true for transient runtime faults. */
export type ModelErrorCode = 'bundle' | 'input' | 'runtime' | 'config';

/** A typed error from the model runtime: names the step or file and says what was expected. */
export class ModelError extends StreamError {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; hint?: string } = {},
  ) {
    super(message, {
      stage: code === 'config' ? 'config' : 'model',
      retriable: opts.retriable ?? code === 'runtime',
      ...(opts.hint !== undefined ? { hint: opts.hint } : {}),
      cause: opts.cause,
    });
  }
}

/** Error for a bundle that is missing a file or does not match its description. */
export function bundleError(file: string, message: string, cause?: unknown): ModelError {
  return new ModelError('bundle', `model bundle: ${file}: ${message}`, { cause });
}
