// The codec's check for text that was not valid UTF-8: avsc decodes invalid bytes to U+FFFD, so a
// decoded value holding U+FFFD in a string had bad bytes on the wire. A per-schema compiled scanner
// keeps the per-message cost low; the slow walk that names the fields runs only on a hit.
import type avro from 'avsc';

/** True when a decoded value holds U+FFFD in some string (what Buffer#toString makes of invalid UTF-8). */
export type Scanner = (v: unknown) => boolean;

/**
 * Compiles a check that visits only the string-bearing parts of a type, so the per-message UTF-8
 * check costs little on records full of numbers; null when the type holds no strings.
 */
export function compileScanner(type: avro.Type, seen = new Map<avro.Type, Scanner | null>()): Scanner | null {
  if (seen.has(type)) return seen.get(type) ?? null;
  const t = type as avro.Type & {
    typeName: string;
    fields?: Array<{ name: string; type: avro.Type }>;
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
  };
  let scanner: Scanner | null = null;
  // Recursive records refer to themselves: register a forwarder before compiling the children.
  seen.set(type, (v) => scanner?.(v) ?? false);
  switch (t.typeName) {
    case 'string':
      scanner = (v) => typeof v === 'string' && v.includes('\uFFFD');
      break;
    case 'record':
    case 'error': {
      const parts = (t.fields ?? [])
        .map((f) => ({ name: f.name, scan: compileScanner(f.type, seen) }))
        .filter((f): f is { name: string; scan: Scanner } => f.scan !== null);
      if (parts.length) {
        scanner = (v) => {
          if (!v || typeof v !== 'object') return false;
          for (const f of parts) if (f.scan((v as Record<string, unknown>)[f.name])) return true;
          return false;
        };
      }
      break;
    }
    case 'array': {
      const item = t.itemsType ? compileScanner(t.itemsType, seen) : null;
      if (item) {
        scanner = (v) => {
          if (!Array.isArray(v)) return false;
          for (let i = 0; i < v.length; i++) if (item(v[i])) return true;
          return false;
        };
      }
      break;
    }
    case 'map': {
      const val = t.valuesType ? compileScanner(t.valuesType, seen) : null;
      scanner = (v) => {
        if (!v || typeof v !== 'object') return false;
        for (const [k, x] of Object.entries(v)) if (k.includes('\uFFFD') || val?.(x)) return true;
        return false;
      };
      break;
    }
    default:
      if (t.types) {
        const branches = t.types.map((b) => compileScanner(b, seen)).filter((b): b is Scanner => b !== null);
        if (branches.length) scanner = (v) => branches.some((b) => b(v));
      }
  }
  seen.set(type, scanner);
  return scanner;
}

/** Paths of string fields holding U+FFFD; the slow walk, run only once the scanner found one. */
export function replacementCharPaths(v: unknown, path: string, out: string[]): void {
  if (typeof v === 'string') {
    if (v.includes('\uFFFD')) out.push(path || '(root)');
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => replacementCharPaths(x, path ? `${path}.${i}` : String(i), out));
  } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    for (const [k, x] of Object.entries(v)) replacementCharPaths(x, path ? `${path}.${k}` : k, out);
  }
}
