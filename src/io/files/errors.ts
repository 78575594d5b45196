/** A record of an input file that cannot be parsed; names the file and line. Not retriable. */
export class FileFormatError extends Error {
  override readonly name = 'FileFormatError';
  readonly retriable = false;
  constructor(
    /** The format being read (`pubtator`, `conll`, ...). */
    readonly format: string,
    readonly path: string,
    /** 1-based line of the fault, when known. */
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${format}:${path}${line !== undefined ? ` line ${line}` : ''}: ${detail}`);
  }
}

/** A file URI that cannot be opened (bad scheme, missing path, unsupported format). */
export class FileUriError extends Error {
  override readonly name = 'FileUriError';
  readonly retriable = false;
}
