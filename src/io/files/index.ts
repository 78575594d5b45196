import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Sink, Source } from '../../engine/types.ts';
import { CONLL_BIO_MODES, readConll, formatLabeledSentence, type ConllReadOptions } from './conll.ts';
import { FileUriError } from './errors.ts';
import { readJsonl, toJsonLine, type JsonlReadOptions } from './jsonl.ts';
import { openInput } from './lines.ts';
import { readPubmedXml } from './pubmedXml.ts';
import { readPubtator, type PubtatorReadOptions } from './pubtator.ts';
import {
  formatPubtatorDoc,
  pubtatorFromArticle,
  pubtatorLinesOf,
  type PubtatorArticleLike,
} from '../../text/pubtator.ts';
import { FileSource, type FileSourceOptions, type ParsedRecord } from './fileSource.ts';
import { FileSink, type FileSinkOptions } from './fileSink.ts';

export {
  FileSource,
  type FileSourceOptions,
  type ParsedRecord,
  type FileSourceStats,
  type SourceProgress,
} from './fileSource.ts';
export { FileSink, type FileSinkOptions } from './fileSink.ts';
export { FileDeadLetterWriter, deadLetterValue, deadLetterOrigin } from './deadLetterFile.ts';
import { FileDeadLetterWriter } from './deadLetterFile.ts';
export { FileFormatError, FileUriError } from './errors.ts';
export { readLines, openInput, type Line } from './lines.ts';
export { readPubtator } from './pubtator.ts';
export { readPubmedXml, joinAbstract } from './pubmedXml.ts';
export { readJsonl, toJsonLine, defaultKeyOf } from './jsonl.ts';
export { readConll, formatLabeledSentence } from './conll.ts';

/** Data formats the file layer reads or writes. */
export const FILE_FORMATS = ['pubtator', 'pubmed-xml', 'jsonl', 'conll'] as const;
/** One of the file formats. */
export type FileFormat = (typeof FILE_FORMATS)[number];
/** Schemes accepted by `openSource` / `openSink`. */
export const FILE_SCHEMES = [...FILE_FORMATS, 'stdin', 'stdout'] as const;

/** A parsed file URI. */
export interface FileUri {
  format: FileFormat;
  /** Absolute path, or null for stdin/stdout. */
  path: string | null;
  stdio: 'stdin' | 'stdout' | null;
}

const USAGE =
  'valid: pubtator:<path>, pubmed-xml:<path|dir>, jsonl:<path>, conll:<path>, stdin:[<format>], stdout:[<format>]';

/** True when `uri` names one of the file schemes (the CLI sends the rest, e.g. kafka:, elsewhere). */
export function isFileUri(uri: string): boolean {
  const scheme = uri.slice(0, uri.indexOf(':'));
  return (FILE_SCHEMES as readonly string[]).includes(scheme);
}

/** Parses `scheme:rest`; throws FileUriError listing the valid schemes. */
export function parseFileUri(uri: string): FileUri {
  const i = uri.indexOf(':');
  if (i <= 0) throw new FileUriError(`file URI '${uri}' has no scheme; ${USAGE}`);
  const scheme = uri.slice(0, i);
  const rest = uri.slice(i + 1);
  if (scheme === 'stdin' || scheme === 'stdout') {
    const format = rest === '' ? 'jsonl' : rest;
    if (!(FILE_FORMATS as readonly string[]).includes(format)) {
      throw new FileUriError(
        `file URI '${uri}': unknown format '${format}'; valid formats: ${FILE_FORMATS.join(', ')}`,
      );
    }
    return { format: format as FileFormat, path: null, stdio: scheme };
  }
  if (!(FILE_FORMATS as readonly string[]).includes(scheme)) {
    const hint = scheme === 'kafka' ? ' (kafka: URIs are opened by the Kafka source, src/io/kafka)' : '';
    throw new FileUriError(`file URI '${uri}': unknown scheme '${scheme}'${hint}; ${USAGE}`);
  }
  if (rest === '') throw new FileUriError(`file URI '${uri}' has no path; ${USAGE}`);
  return { format: scheme as FileFormat, path: resolve(rest.replace(/^\/\/(?=\/)/, '')), stdio: null };
}

/** Options of `openSource`. */
export interface OpenSourceOptions extends FileSourceOptions {
  /** Source id in logs, errors and dead letters (default: the URI). */
  id?: string;
  jsonl?: JsonlReadOptions;
  pubtator?: PubtatorReadOptions;
  conll?: ConllReadOptions;
  /** Stream read by `stdin:` (default process.stdin); injectable for tests. */
  stdin?: Readable;
}

function filesOf(path: string, format: FileFormat): string[] {
  if (!existsSync(path)) throw new FileUriError(`${format}:${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return [path];
  // A folder such as a PubMed baseline (pubmed25n0001.xml.gz, ...) or PMC .nxml files, in name order.
  const want = format === 'pubmed-xml' ? /\.n?xml(\.gz)?$/i : /./;
  const files = readdirSync(path)
    .filter((f) => want.test(f) && statSync(join(path, f)).isFile())
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new FileUriError(`${format}:${path}: directory holds no input files`);
  return files;
}

function reader(
  format: FileFormat,
  opts: OpenSourceOptions,
): (stream: Readable, path: string) => AsyncIterable<ParsedRecord<unknown>> {
  switch (format) {
    case 'pubtator':
      return (s, p) => readPubtator(s, p, opts.pubtator);
    case 'pubmed-xml':
      return (s, p) => readPubmedXml(s, p);
    case 'jsonl':
      return (s, p) => readJsonl(s, p, opts.jsonl);
    case 'conll':
      return (s, p) => readConll(s, p, opts.conll);
  }
}

/**
 * Opens a streaming source for a file URI (`pubtator:data/x.pubtator`, `pubmed-xml:baseline/`,
 * `jsonl:-`, `stdin:conll`, ...). Gzip input is detected by its magic bytes.
 */
export function openSource<T = unknown>(
  uri: string,
  opts: OpenSourceOptions = {},
): Source<T> & FileSource<T> {
  // `conll:<path>?bio=strict|repair`: the one reader option a URI can carry (the CLI has no other way to set it).
  const bioQuery = /\?bio=([^&]*)$/.exec(uri);
  if (bioQuery) {
    const mode = bioQuery[1] as string;
    if (!uri.startsWith('conll:') && !uri.startsWith('stdin:conll'))
      throw new FileUriError(`file URI '${uri}': ?bio= applies to conll: sources only`);
    if (!(CONLL_BIO_MODES as readonly string[]).includes(mode))
      throw new FileUriError(
        `file URI '${uri}': unknown bio mode '${mode}'; valid: ${CONLL_BIO_MODES.join(', ')}`,
      );
    uri = uri.slice(0, bioQuery.index);
    opts = { ...opts, conll: { ...opts.conll, bio: mode as 'repair' | 'strict' } };
  }
  const u = parseFileUri(uri);
  if (u.stdio === 'stdout')
    throw new FileUriError(`'${uri}' is a sink URI; a source needs a file path or stdin:`);
  const id = opts.id ?? uri;
  const read = reader(u.format, opts);
  if (u.stdio === 'stdin') {
    const input = opts.stdin ?? process.stdin;
    return new FileSource<T>(
      id,
      '-',
      () => read(openInput(input), '-') as AsyncIterable<ParsedRecord<T>>,
      opts,
    );
  }
  const files = filesOf(u.path as string, u.format);
  // Bytes read of the files' total size: the run's progress and ETA (FileSource.progress).
  const size = { read: 0, total: files.reduce((n, p) => n + statSync(p).size, 0) };
  const onRead = (bytes: number): void => {
    size.read += bytes;
  };
  const withSize = { ...opts, inputSize: size };
  if (files.length === 1) {
    const p = files[0] as string;
    return new FileSource<T>(
      id,
      p,
      () => read(openInput(p, onRead), p) as AsyncIterable<ParsedRecord<T>>,
      withSize,
    );
  }
  return new FileSource<T>(
    id,
    u.path as string,
    async function* () {
      // Each record names its own file, so origins point into the right file of the folder.
      for (const p of files) {
        for await (const r of read(openInput(p, onRead), p) as AsyncIterable<ParsedRecord<T>>)
          yield { ...r, path: p };
      }
    },
    withSize,
  );
}

/** Options of `openSink`. */
export interface OpenSinkOptions extends FileSinkOptions {
  id?: string;
  /** Stream written by `stdout:` (default process.stdout); injectable for tests. */
  stdout?: Writable;
}

/** The serializer of a sink format. */
export function serializerOf(format: FileFormat): (value: unknown) => string {
  switch (format) {
    case 'jsonl':
      return toJsonLine;
    case 'pubtator':
      return (v) => {
        const a = v as Partial<PubtatorArticleLike> | null;
        if (a && typeof a.title === 'string' && typeof a.abstract === 'string')
          return formatPubtatorDoc(pubtatorFromArticle(a as PubtatorArticleLike)) + '\n\n';
        const lines = pubtatorLinesOf(v);
        if (lines === null)
          throw new FileUriError(
            'pubtator sink: this record is neither an article (pmid, title, abstract), an NER prediction nor a concept relation; write it with jsonl:',
          );
        return lines.map((l) => `${l}\n`).join('');
      };
    case 'conll':
      return (v) => formatLabeledSentence(v as Parameters<typeof formatLabeledSentence>[0]);
    case 'pubmed-xml':
      throw new FileUriError('pubmed-xml is read-only; sink formats: jsonl, pubtator, conll');
  }
}

/** Opens a sink for a file URI (`jsonl:out/preds.jsonl`, `pubtator:out.pubtator`, `conll:aug.conll`, `stdout:`). */
export function openSink<T = unknown>(uri: string, opts: OpenSinkOptions = {}): Sink<T> & FileSink<T> {
  const u = parseFileUri(uri);
  if (u.stdio === 'stdin')
    throw new FileUriError(`'${uri}' is a source URI; a sink needs a file path or stdout:`);
  const serialize = serializerOf(u.format) as (v: T) => string;
  const id = opts.id ?? uri;
  if (u.stdio === 'stdout') return new FileSink<T>(id, opts.stdout ?? process.stdout, serialize, opts);
  const path = u.path as string;
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new FileUriError(`${uri}: is a directory; a sink writes one file`);
  }
  mkdirSync(dirname(path), { recursive: true });
  return new FileSink<T>(id, path, serialize, opts);
}

/** Opens a file dead-letter writer for `jsonl:<path>` (appends) or `stderr:`; throws FileUriError otherwise. */
export function openDeadLetterWriter(uri: string, opts: { stderr?: Writable } = {}): FileDeadLetterWriter {
  // stderr: is read by a person: one line per dead letter; stderr:jsonl gives the whole records.
  if (uri === 'stderr:') return new FileDeadLetterWriter(opts.stderr ?? process.stderr, Date.now, true);
  if (uri === 'stderr:jsonl') return new FileDeadLetterWriter(opts.stderr ?? process.stderr);
  const u = parseFileUri(uri);
  if (u.format !== 'jsonl' || u.stdio === 'stdin') {
    throw new FileUriError(
      `dead letters '${uri}': valid: jsonl:<path>, stdout:jsonl, stderr: (one line each), stderr:jsonl (whole records)`,
    );
  }
  if (u.stdio === 'stdout') return new FileDeadLetterWriter(process.stdout);
  const path = u.path as string;
  mkdirSync(dirname(path), { recursive: true });
  return new FileDeadLetterWriter(path);
}
