// The Confluent wire format: magic byte 0, the 4-byte big-endian schema id, then the Avro binary body.
// Reading the header, decoding and checking a body, and encoding one message behind a header.
import type avro from 'avsc';
import { DecodeError } from './errors.ts';
import { replacementCharPaths, type Scanner } from './replacementChars.ts';
import type { Writer, WriterSchemas } from './writerSchemas.ts';

/** Size of the Confluent wire header: magic byte 0 + 4-byte big-endian schema id. */
export const WIRE_HEADER_BYTES = 5;

/** The writer schema named by a buffer's header; `whyUnknown` says why an id has no writer. */
export function readHeader(buf: Buffer, writers: WriterSchemas, whyUnknown: (id: number) => string): Writer {
  if (!Buffer.isBuffer(buf)) throw new DecodeError('undecodable', 'decode: input is not a Buffer');
  if (buf.length < WIRE_HEADER_BYTES) {
    throw new DecodeError('undecodable', `decode: ${buf.length} bytes, shorter than the 5-byte wire header`);
  }
  if (buf[0] !== 0) {
    throw new DecodeError(
      'undecodable',
      `decode: magic byte is ${buf[0]}, expected 0 (Confluent wire format)`,
    );
  }
  const id = buf.readUInt32BE(1);
  const w = writers.get(id);
  if (!w)
    throw new DecodeError('unknown-schema-id', `decode: unknown schema id ${id} (${whyUnknown(id)})`, [], id);
  return w;
}

/** The writer must be of the expected schema (when one is given) and readable with the current one. */
export function checkReadable(w: Writer, expected: string | undefined): void {
  if (expected !== undefined && w.name !== expected) {
    throw new DecodeError(
      'wrong-schema',
      `decode: expected ${expected}, got ${w.name} (schema id ${w.id})`,
      [],
      w.id,
    );
  }
  if (w.resolveError) {
    throw new DecodeError(
      'wrong-schema',
      `decode: ${w.name} schema id ${w.id} cannot be read with the current schema: ${w.resolveError}`,
      [],
      w.id,
    );
  }
}

/** Decodes the body after the header with the reader schema; a corrupt, short or long body is undecodable. */
export function decodeBody(buf: Buffer, w: Writer, reader: avro.Type): unknown {
  let res: { value: unknown; offset: number };
  try {
    res = reader.decode(buf, WIRE_HEADER_BYTES, w.resolver);
  } catch (e) {
    throw new DecodeError(
      'undecodable',
      `decode: ${w.name} body is corrupt: ${(e as Error).message}`,
      [],
      w.id,
    );
  }
  if (res.offset < 0) {
    throw new DecodeError(
      'undecodable',
      `decode: ${w.name} body is truncated (${buf.length} bytes)`,
      [],
      w.id,
    );
  }
  if (res.offset !== buf.length) {
    throw new DecodeError(
      'undecodable',
      `decode: ${buf.length - res.offset} trailing bytes after the ${w.name} body`,
      [],
      w.id,
    );
  }
  return res.value;
}

/**
 * Strings with U+FFFD may be genuine; they came from invalid UTF-8 only if re-encoding the body as
 * written does not give the same bytes. Then the message is an invalid-field error naming the fields.
 */
export function checkUtf8(buf: Buffer, w: Writer, value: unknown, scanner: Scanner | null): void {
  if (!scanner?.(value)) return;
  const suspicious: string[] = [];
  replacementCharPaths(value, '', suspicious);
  const asWritten = w.type.decode(buf, WIRE_HEADER_BYTES).value;
  if (!w.type.toBuffer(asWritten).equals(buf.subarray(WIRE_HEADER_BYTES))) {
    throw new DecodeError(
      'invalid-field',
      `decode: invalid UTF-8 in ${w.name} field(s) ${suspicious.join(', ')}`,
      suspicious,
      w.id,
    );
  }
}

/** Encodes values straight after the header in a reusable scratch buffer: one copy per message. */
export class WireEncoder {
  private scratch = Buffer.allocUnsafe(64 * 1024);

  encode(type: avro.Type, value: unknown, schemaId: number): Buffer {
    let end = type.encode(value, this.scratch, WIRE_HEADER_BYTES);
    while (end < 0) {
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
      end = type.encode(value, this.scratch, WIRE_HEADER_BYTES);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    out[0] = 0;
    out.writeUInt32BE(schemaId, 1);
    return out;
  }
}
