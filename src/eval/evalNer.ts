// `eval ner`: run a token-classification bundle over a CoNLL file and score it with strict
// entity F1. The bundle runs through the engine's tagger runtime (src/models/ner), so the
// figure printed is the figure the streaming operator would reach on the same sentences.
import { StreamError } from '../engine/errors.ts';
import { readFileSync } from 'node:fs';
import { iterateConll } from '../text/conll.ts';
import { entityF1, type EntityF1Result } from './entityF1.ts';

/** What `eval ner` needs from a tagger: batched prediction of BIO tags for pre-tokenized sentences. */
export interface SentenceTagger {
  /** Label set of the model (used to resolve type-less gold tags). */
  labels?: readonly string[];
  predict(batch: { tokens: string[] }[]): Promise<{ tags: string[] }[]>;
}

/** Options of {@link evalNer}. */
export interface EvalNerOptions {
  /** CoNLL file with gold tags. */
  data: string;
  /** 1-based column holding the gold tag (2 for ner/, 4 for keywords/). */
  tagColumn?: number;
  /** Type given to gold tags written without one (`B`, `I`); default: the model's only entity type. */
  bareType?: string;
  /** Sentences per predict call (default 32). */
  batchSize?: number;
  /** Stop after this many sentences (0 = all). */
  limit?: number;
  /** Clock for the throughput figure (injectable for tests). */
  now?: () => number;
}

/** Scores plus run size and throughput, as printed by `eval ner`. */
export interface EvalNerResult extends EntityF1Result {
  sentences: number;
  tokens: number;
  seconds: number;
  sentences_per_s: number;
}

/** A bad `eval ner` invocation or input (not retriable); the message names the option or line. */
export class EvalNerError extends StreamError {
  constructor(message: string) {
    super(message, { stage: 'eval', step: 'eval ner' });
  }
}

function modelTypes(labels: readonly string[] | undefined): string[] {
  return [...new Set((labels ?? []).filter((l) => l !== 'O').map((l) => l.replace(/^[BIES]-/, '')))];
}

/** Reads gold sentences, tags them with `tagger` in batches, returns strict entity P/R/F1 (0-100). */
export async function evalNer(tagger: SentenceTagger, options: EvalNerOptions): Promise<EvalNerResult> {
  const tagColumn = options.tagColumn ?? 2;
  if (!Number.isInteger(tagColumn) || tagColumn < 2)
    throw new EvalNerError(
      `eval ner: --tag-column must be an integer >= 2 (column 1 is the token), got ${tagColumn}`,
    );
  const batchSize = options.batchSize ?? 32;
  const now = options.now ?? (() => performance.now());
  let text: string;
  try {
    text = readFileSync(options.data, 'utf8');
  } catch (e) {
    throw new EvalNerError(`eval ner: cannot read --data ${options.data}: ${(e as Error).message}`);
  }
  const types = modelTypes(tagger.labels);
  const bareType = options.bareType ?? (types.length === 1 ? types[0] : undefined);
  const gold: string[][] = [];
  const pred: string[][] = [];
  let batch: { tokens: string[]; gold: string[] }[] = [];
  let seconds = 0;
  let tokens = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const t0 = now();
    const out = await tagger.predict(batch.map((b) => ({ tokens: b.tokens })));
    seconds += (now() - t0) / 1000;
    if (out.length !== batch.length)
      throw new EvalNerError(`eval ner: tagger returned ${out.length} results for ${batch.length} sentences`);
    for (let i = 0; i < batch.length; i++) {
      const tags = out[i]!.tags;
      if (tags.length !== batch[i]!.tokens.length)
        throw new EvalNerError(
          `eval ner: tagger returned ${tags.length} tags for a sentence of ${batch[i]!.tokens.length} tokens`,
        );
      gold.push(batch[i]!.gold);
      pred.push(tags);
    }
    batch = [];
  };
  // Tags are validated here (not by the parser) so type-less keyword tags can be mapped first.
  for (const s of iterateConll(text, { source: options.data, validateTags: false })) {
    const col = tagColumn === 2 ? s.tags : s.extra[tagColumn - 3];
    if (!col)
      throw new EvalNerError(
        `eval ner: ${options.data}:${s.lines[0]}: no column ${tagColumn} (the file has ${s.extra.length + 2})`,
      );
    const g = col.map((t, i) => {
      if (t === 'B' || t === 'I') {
        if (!bareType)
          throw new EvalNerError(
            `eval ner: ${options.data}:${s.lines[i]}: tag ${t} has no type and the model has types ` +
              `[${types.join(', ')}]: pass --bare-type <type>`,
          );
        return `${t}-${bareType}`;
      }
      if (!/^(?:O|[BIES]-\S+)$/.test(t))
        throw new EvalNerError(
          `eval ner: ${options.data}:${s.lines[i]}: invalid tag ${JSON.stringify(t)}: valid tags are O, B-<type>, I-<type>`,
        );
      return t;
    });
    tokens += s.tokens.length;
    batch.push({ tokens: s.tokens, gold: g });
    if (batch.length >= batchSize) await flush();
    if (options.limit && gold.length + batch.length >= options.limit) break;
  }
  await flush();
  if (gold.length === 0) throw new EvalNerError(`eval ner: ${options.data} holds no sentences`);
  const scores = entityF1(gold, pred);
  return {
    ...scores,
    sentences: gold.length,
    tokens,
    seconds,
    sentences_per_s: seconds > 0 ? gold.length / seconds : 0,
  };
}
