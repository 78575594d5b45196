import { StreamError } from '../../engine/errors.ts';

/** A record of an input file that cannot be parsed; names the file and line. Not retriable. */
export class FileFormatError extends StreamError {
  constructor(
    /** The format being read (`pubtator`, `conll`, ...). */
    readonly format: string,
    readonly path: string,
    /** 1-based line of the fault, when known. */
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${format}:${path}${line !== undefined ? ` line ${line}` : ''}: ${detail}`, {
      stage: 'input',
      step: format,
    });
  }
}

/** A file URI that cannot be opened (bad scheme, missing path, unsupported format). */
export class FileUriError extends StreamError {
  constructor(message: string) {
    super(message, { stage: 'config' });
  }
}
