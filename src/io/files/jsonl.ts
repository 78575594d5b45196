import { FileFormatError } from './errors.ts';
import { readLines } from './lines.ts';
import type { ParsedRecord } from './fileSource.ts';

/** Options of the JSONL reader. */
export interface JsonlReadOptions {
  /**
   * Checks or converts each parsed value (e.g. `v => codec.fromJson('PubmedArticle', v)`); what it
   * throws becomes that line's error.
   */
  validate?: (value: unknown) => unknown;
  /** The envelope key of a value (default: its `id`, `pmid` or `sourceId` field when a string). */
  keyOf?: (value: unknown) => string | null;
  maxLineBytes?: number;
}

/** Default key: the first string among id, pmid, sourceId, key. */
export function defaultKeyOf(v: unknown): string | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  for (const k of ['id', 'pmid', 'sourceId', 'key']) if (typeof o[k] === 'string') return o[k];
  return null;
}

/** Streams one JSON value per line; blank lines are skipped, bad lines become error records. */
export async function* readJsonl(
  stream: AsyncIterable<Buffer | string>,
  path: string,
  opts: JsonlReadOptions = {},
): AsyncGenerator<ParsedRecord<unknown>> {
  const keyOf = opts.keyOf ?? defaultKeyOf;
  const readOpts = opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {};
  for await (const l of readLines(stream, readOpts)) {
    const base = { key: null, line: l.line, raw: l.raw };
    if (l.error) {
      yield { ok: false, error: new FileFormatError('jsonl', path, l.line, l.error), ...base };
      continue;
    }
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (e) {
      yield {
        ok: false,
        error: new FileFormatError('jsonl', path, l.line, `invalid JSON: ${(e as Error).message}`),
        ...base,
      };
      continue;
    }
    if (opts.validate) {
      try {
        value = opts.validate(value);
      } catch (e) {
        yield {
          ok: false,
          error: new FileFormatError('jsonl', path, l.line, (e as Error).message),
          ...base,
          key: keyOf(value),
        };
        continue;
      }
    }
    yield { ok: true, value, ...base, key: keyOf(value) };
  }
}

/** JSON.stringify that writes Buffers as base64 strings (Avro bytes fields) instead of byte arrays. */
export function toJsonLine(value: unknown): string {
  // A replacer runs for every value (each token, tag and score of a prediction) and made JSON.stringify
  // several times slower: only a record that holds a Buffer pays for it.
  if (!holdsBuffer(value)) return JSON.stringify(value) + '\n';
  return (
    JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
      const orig = this[k];
      return Buffer.isBuffer(orig) ? orig.toString('base64') : v;
    }) + '\n'
  );
}

/** Whether a Buffer sits anywhere in `v` (primitives are skipped without a call). */
function holdsBuffer(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x !== null && typeof x === 'object' && holdsBuffer(x)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object' && holdsBuffer(x)) return true;
  }
  return false;
}
