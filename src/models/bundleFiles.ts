import type { z } from 'zod';
// The file-level checks shared by the bundle loaders: JSON descriptions, required files, graph inputs
// and outputs against the description, labels, CRF parameters and tokenizers. Every failure is a
// bundle error naming the file and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelSession, type BackendConfig } from './backend.ts';
import type { CrfParams } from './bundle.ts';
import { bundleError } from './errors.ts';
import { CharVocab } from './tokenizer.ts';

/** A parsed JSON object (model.json, config.json, ...). */
export type Json = Record<string, unknown>;

/** Reads `dir/file` as a JSON object; a missing or malformed file is a bundle error naming it and `what` it is. */
export function readJson(dir: string, file: string, what: string): Json {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  try {
    const v = JSON.parse(readFileSync(p, 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw bundleError(p, `not valid JSON: ${(e as Error).message}`, e);
  }
}

/** Reads `dir/file` as JSON of any shape; a missing or malformed file is a bundle error naming it. */
export function readJsonValue(dir: string, file: string, what: string): unknown {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as unknown;
  } catch (e) {
    throw bundleError(p, `not valid JSON: ${(e as Error).message}`, e);
  }
}

/**
 * Reads `dir/file` and checks it against `schema`. A missing file is a bundle error "missing (`what`)";
 * malformed JSON or a value the schema rejects is "`invalid`: <reason>", both naming the file.
 */
export function readJsonAs<S extends z.ZodTypeAny>(
  dir: string,
  file: string,
  what: string,
  schema: S,
  invalid: string,
): z.output<S> {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(p, 'utf8')));
    if (parsed.success) return parsed.data as z.output<S>;
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(issues.join('; '));
  } catch (e) {
    throw bundleError(p, `${invalid}: ${(e as Error).message}`, e);
  }
}

/** The path of `dir/file`, which must exist. */
export function need(dir: string, file: string, what: string): string {
  const p = join(dir, file);
  if (!existsSync(p)) throw bundleError(p, `missing (${what})`);
  return p;
}

/** A string field of a JSON description, optionally one of `allowed`. */
export function str(obj: Json, key: string, file: string, allowed?: readonly string[]): string {
  const v = obj[key];
  if (typeof v !== 'string' || (allowed && !allowed.includes(v)))
    throw bundleError(
      file,
      `"${key}" must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}, got ${JSON.stringify(v)}`,
    );
  return v;
}

/** A non-negative integer field of a JSON description, with a default. */
export function int(obj: Json, key: string, file: string, dflt?: number): number {
  const v = obj[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw bundleError(file, `"${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** An object-of-strings field (input/output names, files); absent means empty. */
export function strRecord(v: unknown, file: string, key: string): Record<string, string> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw bundleError(file, `"${key}" must be an object of strings`);
  return v as Record<string, string>;
}

/** Checks that the graph has the named inputs or outputs; the error lists what it has. */
export function checkIo(
  session: ModelSession,
  names: Record<string, string>,
  side: 'input' | 'output',
  file: string,
): void {
  const have = side === 'input' ? session.inputNames : session.outputNames;
  for (const [role, name] of Object.entries(names)) {
    if (!have.includes(name))
      throw bundleError(
        file,
        `expected ${side} "${name}" (${role}); the graph has ${side}s: ${have.join(', ')}`,
      );
  }
}

/** Checks that an output has one class per label. */
export function checkLabels(
  session: ModelSession,
  output: string,
  labels: string[],
  file: string,
  labelsFrom: string,
): void {
  const d = session.outputLastDim(output);
  if (d !== undefined && d !== labels.length)
    throw bundleError(
      file,
      `output "${output}" has ${d} classes but ${labelsFrom} lists ${labels.length} labels`,
    );
}

/** The labels of a Hugging Face config, in id order (ids must be 0..n-1). */
export function labelsFromId2Label(cfg: Json, file: string): string[] {
  const m = cfg.id2label;
  if (!m || typeof m !== 'object') throw bundleError(file, 'expected "id2label" for a token classifier');
  const entries = Object.entries(m as Record<string, unknown>);
  const labels: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const v = (m as Record<string, unknown>)[String(i)];
    if (typeof v !== 'string')
      throw bundleError(
        file,
        `id2label has a gap or a non-string at id ${i} (expected ids 0..${entries.length - 1})`,
      );
    labels.push(v);
  }
  return labels;
}

/** CRF parameters from crf.json, checked against the label count. */
export function readCrf(dir: string, file: string, n: number): CrfParams {
  const j = readJson(dir, file, 'CRF transitions');
  const p = join(dir, file);
  const isVec = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number');
  const t = j.transitions;
  if (!Array.isArray(t) || t.length !== n || !t.every(isVec))
    throw bundleError(p, `"transitions" must be a ${n}x${n} number matrix (one row and column per label)`);
  const start = j.start ?? new Array<number>(n).fill(0);
  const end = j.end ?? new Array<number>(n).fill(0);
  if (!isVec(start) || !isVec(end)) throw bundleError(p, `"start" and "end" must be ${n} numbers`);
  return { transitions: t, start, end };
}

/** A Hugging Face tokenizer from tokenizer.json (and tokenizer_config.json when present). */
export function loadHfTokenizer(dir: string): { tok: Tokenizer; json: Json } {
  const json = readJson(dir, 'tokenizer.json', 'Hugging Face tokenizer');
  const cfg = existsSync(join(dir, 'tokenizer_config.json'))
    ? readJson(dir, 'tokenizer_config.json', '')
    : {};
  try {
    return { tok: new Tokenizer(json, cfg), json };
  } catch (e) {
    throw bundleError(join(dir, 'tokenizer.json'), `cannot build the tokenizer: ${(e as Error).message}`, e);
  }
}

/** Opens an ONNX session on `dir/file`, which must exist. */
export async function open(
  dir: string,
  file: string,
  what: string,
  backend?: z.input<typeof BackendConfig>,
): Promise<ModelSession> {
  return ModelSession.open(need(dir, file, what), backend);
}

/** The character vocabulary of a word-level bundle. */
export function readChars(dir: string, file = 'chars.json'): CharVocab {
  return CharVocab.fromJson(readJson(dir, file, 'character vocabulary'), join(dir, file));
}
