// The action of `bioaug-stream augment` (options in augment.ts): the sentences run through the augment
// topology (topologies/augment.ts) from an in-memory source into a line-writing sink, so the command and
// the streaming path share every step.
import { SingleBar, Presets } from 'cli-progress';
import type { OperatorFunction } from 'rxjs';
import { parseMethod } from '../../augment/augmenter.ts';
import { CorruptConfig } from '../../augment/bioaug/corrupt.ts';
import { attachKeywords, readLabeled } from '../../augment/corpus.ts';
import {
  buildAugmentState,
  loadAugmentState,
  saveAugmentState,
  type AugmentState,
} from '../../augment/state.ts';
import { loadSynonyms } from '../../augment/wordnet.ts';
import type { Envelope, Failure } from '../../engine/envelope.ts';
import { MemorySource } from '../../engine/memory.ts';
import { runTopology } from '../../engine/runner.ts';
import { mapStep } from '../../engine/step.ts';
import type { DeadLetterWriter, Sink } from '../../engine/types.ts';
import type { AugmentedSentence, LabeledSentence } from '../../io/avro/types.generated.ts';
import { formatConllSentence } from '../../text/conll.ts';
import { build as buildAugment } from '../../../topologies/augment.ts';
import { LineWriter } from '../lineWriter.ts';

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

/** Augments with `augment`'s parsed options; usage and input errors print one line, exit code 2. */
export async function augmentAction(opts: Record<string, string | boolean | undefined>): Promise<void> {
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
    const synonyms =
      method === 'sr' || method === 'all4' ? loadSynonyms(opts.wordnet as string | undefined) : undefined;
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
    const out = new LineWriter(String(opts.output));
    const bar = new SingleBar(
      { stream: process.stderr, format: 'augment {method} [{bar}] {value}/{total} sentences' },
      Presets.shades_classic,
    );
    bar.start(sentences.length, 0, { method });
    let done = 0;
    const failures: Failure[] = [];
    // A sentence that failed reaches the dead letters: report it on stderr, write nothing for it.
    const deadLetters: DeadLetterWriter = {
      write: (r) => {
        failures.push(...r.failures);
        bar.update(++done);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const byId = new Map(sentences.map((s) => [s.id, s]));
    const records = sentences.map((s) => ({
      id: s.id,
      tokens: s.tokens,
      tags: s.tags,
      keywordTags: s.keywords ?? null,
      ...(s.line !== undefined ? { line: s.line } : {}),
    }));
    const source = new MemorySource<LabeledSentence>('sentences', records as LabeledSentence[], {
      deadLetters,
      keyOf: (v) => (v as LabeledSentence).id,
    });
    const sink = linesSink(out, format, {
      originalOf: opts.includeOriginal ? (id) => byId.get(id) : undefined,
      // Every method makes n copies per sentence: the last one written completes the sentence.
      onCopy: (copy) => {
        if (copy === n - 1) bar.update(++done);
      },
    });
    await runTopology({
      sources: { sentences: source },
      sinks: { augmented: sink },
      deadLetters,
      build: buildAugment,
      // Every sentence here has its keyword column (checked above): no keyword model, so nothing
      // batches (and reorders) the sentences before corruption; the output keeps the input order.
      config: {
        methods: [method],
        n,
        seed,
        p,
        state,
        synonyms,
        bioaug: { corrupt },
        keywords: { enabled: false },
      },
    }).done;
    bar.stop();
    for (const f of failures) process.stderr.write(`augment: ${f.error.message}\n`);
    if (failures.length > 0) {
      process.stderr.write(`augment: ${failures.length} sentences failed; their copies were not written\n`);
      process.exitCode = 1;
    }
  } catch (e) {
    // Input and usage errors are reported as one line, not a stack trace.
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}

/** The quality fields of a record, snake_case like the rest of the JSONL line. */
function scoresOf(a: AugmentedSentence): Record<string, unknown> {
  return {
    valid: a.valid,
    new_token_share: a.newTokenShare,
    length_diff: a.lengthDiff,
    mean_log_prob: a.meanLogProb,
    tagger_agreement: a.taggerAgreement,
    quality: a.quality,
    reject_reason: a.rejectReason,
  };
}

/** The copy index of an augmented id `source-id:method:n`. */
function copyIndex(id: string): number {
  return Number(id.slice(id.lastIndexOf(':') + 1));
}

/**
 * A sink writing each augmented sentence as CoNLL or JSONL lines (and, when asked, the original
 * sentence before its first copy); a copy that cannot be written is nacked (reported, not written).
 */
function linesSink(
  out: LineWriter,
  format: 'conll' | 'jsonl',
  o: {
    originalOf?: (id: string) => { id: string; tokens: string[]; tags: string[] } | undefined;
    onCopy: (n: number) => void;
  },
): Sink<AugmentedSentence> {
  let last: string | null = null;
  const line = (
    a: {
      id: string;
      sourceId: string;
      method: string;
      n: number;
      tokens: string[];
      tags: string[];
      generatedText?: string | null;
    } & Partial<AugmentedSentence>,
  ): string =>
    format === 'conll'
      ? formatConllSentence(a)
      : JSON.stringify({
          id: a.id,
          source_id: a.sourceId,
          method: a.method,
          n: a.n,
          tokens: a.tokens,
          tags: a.tags,
          ...(a.generatedText !== undefined && a.generatedText !== null ? { input: a.generatedText } : {}),
          // The record's scores (schemas/AugmentedSentence.avsc), as the augment topology wrote them;
          // an original sentence (--include-original) has none.
          ...(a.valid !== undefined ? scoresOf(a as AugmentedSentence) : {}),
        }) + '\n';
  const write: OperatorFunction<Envelope<AugmentedSentence>, Envelope<AugmentedSentence>> = (src) =>
    src.pipe(
      mapStep('write-lines', (a, env) => {
        let text = '';
        const src = a.sourceId !== last ? o.originalOf?.(a.sourceId) : undefined;
        if (src)
          text += line({
            id: src.id,
            sourceId: src.id,
            method: 'original',
            n: -1,
            tokens: src.tokens,
            tags: src.tags,
          });
        const n = copyIndex(a.id);
        text += line({ ...a, n });
        last = a.sourceId;
        out.write(text);
        env.ack.ack();
        o.onCopy(n);
        return a;
      }),
    );
  return { id: 'augmented', write: () => write, close: () => Promise.resolve(out.close()) };
}
