import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

/** One line of input, without its line terminator (LF or CRLF). */
export interface Line {
  /** 1-based line number. */
  line: number;
  /** Decoded text; empty string when `error` is set. */
  text: string;
  /** The raw bytes of the line (for dead letters). */
  raw: Buffer;
  /** Why the line could not be decoded (invalid UTF-8, too long). */
  error?: string;
}

/** Options of `readLines`. */
export interface ReadLinesOptions {
  /** Longest accepted line in bytes; longer lines become error lines (default 64 MiB). */
  maxLineBytes?: number;
}

/** True when the bytes start with the gzip magic number. */
function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

async function* gunzipIfNeeded(src: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value);
    }
  }
  try {
    if (isGzip(head)) yield* Readable.from(all()).pipe(createGunzip()) as AsyncIterable<Buffer>;
    else yield* all();
  } finally {
    // A reader stopped early must still close the file.
    await it.return?.();
  }
}

async function* counted(
  src: AsyncIterable<Buffer | string>,
  onRead: (bytes: number) => void,
): AsyncGenerator<Buffer | string> {
  for await (const chunk of src) {
    onRead(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
    yield chunk;
  }
}

/**
 * Opens a file (or takes a stream such as stdin) as a byte stream, gunzipping it when it starts
 * with the gzip magic bytes whatever its name: PubMed baseline files come as .xml.gz. `onRead` is
 * told the bytes read from the input as they are read (before gunzip, so they compare with its size).
 */
export function openInput(input: string | Readable, onRead?: (bytes: number) => void): Readable {
  const raw = typeof input === 'string' ? createReadStream(input) : input;
  return Readable.from(gunzipIfNeeded(onRead ? counted(raw, onRead) : raw), { objectMode: false });
}

/**
 * Splits a byte stream into lines (LF, CRLF; a trailing CR is removed), streaming with memory
 * bounded by the longest line. Each line is checked to be UTF-8 so bad bytes become an error
 * line with its number instead of silently turning into U+FFFD.
 */
export async function* readLines(
  stream: AsyncIterable<Buffer | string>,
  opts: ReadLinesOptions = {},
): AsyncGenerator<Line> {
  const max = opts.maxLineBytes ?? 64 * 1024 * 1024;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;
  let n = 0;
  const make = (raw: Buffer): Line => {
    n += 1;
    let body = raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    if (n === 1 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
    if (!isUtf8(body)) return { line: n, text: '', raw: body, error: 'invalid UTF-8' };
    return { line: n, text: body.toString('utf8'), raw: body };
  };
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const piece = buf.subarray(pos, nl);
      pos = nl + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      if (carryLen + piece.length > max) {
        n += 1;
        yield { line: n, text: '', raw: Buffer.alloc(0), error: `line longer than ${max} bytes` };
      } else {
        yield make(carry.length ? Buffer.concat([...carry, piece]) : piece);
      }
      carry = [];
      carryLen = 0;
    }
    if (pos < buf.length && !skipping) {
      const rest = buf.subarray(pos);
      if (carryLen + rest.length > max) {
        n += 1;
        yield { line: n, text: '', raw: Buffer.alloc(0), error: `line longer than ${max} bytes` };
        carry = [];
        carryLen = 0;
        skipping = true;
      } else {
        // Copy: the stream may reuse its chunk buffer.
        carry.push(Buffer.from(rest));
        carryLen += rest.length;
      }
    }
  }
  if (carryLen > 0) yield make(Buffer.concat(carry));
}
