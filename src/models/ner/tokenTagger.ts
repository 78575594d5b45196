import { z } from 'zod';
import { f32, float32, int64, type BackendConfig, type Feeds } from '../backend.ts';
import { disposeBundle, loadBundle, type TokenClassificationBundle } from '../bundle.ts';
import { ModelError } from '../errors.ts';
import { planWindows, type Window } from '../windows.ts';
import { repairBio } from '../../text/bio.ts';
import {
  argmax,
  chosenProbs,
  decodeSpans,
  flattenSpans,
  scoredSpans,
  viterbi,
  type WordSpan,
} from './decode.ts';

/** One pre-tokenized sentence; `offsets` are char [start, end) of each token in the source text. */
export interface TaggerInput {
  tokens: string[];
  offsets?: [number, number][];
}

/** An entity: char offsets (when token offsets were given, else -1), token span [tokenStart, tokenEnd). */
export interface Entity {
  start: number;
  end: number;
  type: string;
  score: number;
  tokenStart: number;
  tokenEnd: number;
}

export interface TaggerOutput {
  tags: string[];
  scores: number[];
  entities: Entity[];
}

/** A loaded token classifier (NER or keywords). */
export interface TokenTagger {
  readonly bundle: TokenClassificationBundle;
  readonly labels: readonly string[];
  /** Tags a batch of sentences in one model run (long sentences are windowed and stitched). */
  predict(batch: TaggerInput[]): Promise<TaggerOutput[]>;
  /** Per-token emissions [n, L] after windowing and stitching (word-aligned), for tests and evaluation. */
  emissions(batch: TaggerInput[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export const TokenTaggerConfig = z
  .object({
    stepId: z.string().default('ner'),
    backend: z.record(z.string(), z.unknown()).optional(),
    /** HF subword models: a word's scores are its first subword's or the mean over its subwords. */
    alignment: z.enum(['first', 'mean']).default('first'),
    /** Overrides the bundle's decoder (e.g. argmax on a CRF bundle, for comparison). */
    decoder: z.enum(['crf', 'argmax', 'span']).optional(),
    /** Overrides the bundle window (must not exceed it). */
    maxLength: z.number().int().min(2).optional(),
    spanThreshold: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type TokenTaggerConfig = z.output<typeof TokenTaggerConfig>;

/** Default of the backend option `worker` for token taggers (see createTokenTagger). */
export const TAGGER_ON_WORKER = true;

interface Row {
  sentence: number;
  window: Window;
}

/** Loads a token-classification bundle (project or HF layout) and returns a batched tagger. */
export async function createTokenTagger(
  dir: string,
  opts: Partial<z.input<typeof TokenTaggerConfig>> = {},
): Promise<TokenTagger> {
  const parsed = TokenTaggerConfig.safeParse(opts);
  if (!parsed.success)
    throw new ModelError(
      'config',
      `token tagger options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const o = parsed.data;
  // Batched tagging runs its session on a worker thread unless told otherwise (backend option `worker`):
  // onnxruntime-node's run() blocks the JS thread, and on a worker the steps around the model overlap it.
  const backend: z.input<typeof BackendConfig> = {
    ...(o.backend as z.input<typeof BackendConfig> | undefined),
  };
  if (backend.worker === undefined) backend.worker = TAGGER_ON_WORKER;
  const bundle = (await loadBundle(dir, {
    task: 'token-classification',
    backend,
  })) as TokenClassificationBundle;
  return new BundleTokenTagger(bundle, o);
}

/** Wraps an already loaded bundle (the caller keeps ownership of disposal through the tagger). */
export function taggerFromBundle(
  bundle: TokenClassificationBundle,
  opts: Partial<z.input<typeof TokenTaggerConfig>> = {},
): TokenTagger {
  return new BundleTokenTagger(bundle, TokenTaggerConfig.parse(opts));
}

/** The TokenTagger of a loaded bundle (ONNX session, tokenizer, decoder). */
class BundleTokenTagger implements TokenTagger {
  readonly labels: readonly string[];
  private readonly decoder: 'crf' | 'argmax' | 'span';
  private readonly window: number;

  constructor(
    readonly bundle: TokenClassificationBundle,
    private readonly o: TokenTaggerConfig,
  ) {
    this.labels = bundle.labels;
    this.decoder = o.decoder ?? bundle.decoder;
    if (this.decoder === 'crf' && !bundle.crf)
      throw new ModelError(
        'config',
        `${o.stepId}: decoder "crf" needs crf.json in ${bundle.dir}; valid here: argmax`,
      );
    if (this.decoder === 'span' && bundle.decoder !== 'span')
      throw new ModelError(
        'config',
        `${o.stepId}: decoder "span" needs a span-head bundle; ${bundle.dir} has ${bundle.decoder}`,
      );
    if (this.decoder === 'span' && !bundle.words)
      throw new ModelError(
        'config',
        `${o.stepId}: the span decoder supports word-level (project) bundles only`,
      );
    // Tags are read with the strict BIO reader of src/text/bio.ts: check the labels once here, so a
    // bundle with other labels fails when it is opened rather than on its first batch.
    if (this.decoder !== 'span') {
      const bad = this.labels.find((l) => l !== 'O' && !/^[BI]-\S/.test(l));
      if (bad !== undefined)
        throw new ModelError(
          'bundle',
          `${o.stepId}: label ${JSON.stringify(bad)} of ${bundle.dir} is not BIO; valid labels: O, B-<type>, I-<type>`,
        );
    }
    this.window = Math.min(o.maxLength ?? bundle.maxLength, bundle.maxLength);
  }

  async predict(batch: TaggerInput[]): Promise<TaggerOutput[]> {
    for (const [i, s] of batch.entries()) {
      if (!Array.isArray(s.tokens) || s.tokens.some((t) => typeof t !== 'string' || t.length === 0))
        throw new ModelError('input', `${this.o.stepId}: sentence ${i} must have non-empty string tokens`);
      if (s.offsets && s.offsets.length !== s.tokens.length)
        throw new ModelError(
          'input',
          `${this.o.stepId}: sentence ${i} has ${s.tokens.length} tokens but ${s.offsets.length} offsets`,
        );
    }
    if (this.decoder === 'span') return this.predictSpans(batch);
    const ems = await this.emissions(batch);
    const L = this.labels.length;
    return batch.map((s, b) => {
      const em = ems[b] ?? new Float32Array(0);
      const n = s.tokens.length;
      const path =
        this.decoder === 'crf' && this.bundle.crf
          ? viterbi(em, n, this.labels, this.bundle.crf).path
          : argmax(em, n, L);
      let tags = path.map((j) => this.labels[j] ?? 'O');
      if (this.decoder === 'argmax') tags = repairBio(tags);
      const scores = chosenProbs(em, n, L, path);
      return { tags, scores, entities: toEntities(scoredSpans(tags, scores), s) };
    });
  }

  async emissions(batch: TaggerInput[]): Promise<Float32Array[]> {
    return this.bundle.words ? this.wordEmissions(batch) : this.subwordEmissions(batch);
  }

  dispose(): Promise<void> {
    return disposeBundle(this.bundle);
  }

  private rows(batch: TaggerInput[], costs: (s: TaggerInput, i: number) => number[], budget: number): Row[] {
    const rows: Row[] = [];
    batch.forEach((s, sentence) => {
      for (const window of planWindows(costs(s, sentence), budget)) rows.push({ sentence, window });
    });
    return rows;
  }

  /** Project layout: word_ids [R,T], char_ids [R,T,C], mask [R,T] -> emissions [R,T,L]. */
  private async wordRun(
    batch: TaggerInput[],
    rows: Row[],
  ): Promise<{ T: number; out: Record<string, Float32Array> }> {
    const b = this.bundle;
    const words = b.words;
    if (!words) throw new ModelError('runtime', `${this.o.stepId}: no word vocabulary`);
    const T = Math.max(1, ...rows.map((r) => r.window.end - r.window.start));
    const R = rows.length;
    const ids = new BigInt64Array(R * T);
    const mask = new Float32Array(R * T);
    const C = b.chars?.maxWordLength ?? 0;
    const chars = new BigInt64Array(R * T * C);
    rows.forEach((r, k) => {
      const toks = batch[r.sentence]?.tokens ?? [];
      for (let t = r.window.start; t < r.window.end; t++) {
        const w = toks[t] ?? '';
        const p = k * T + (t - r.window.start);
        ids[p] = words.bigId(w);
        mask[p] = 1;
        if (b.chars) b.chars.fill(w, chars, p * C);
      }
    });
    const feeds: Feeds = {
      [b.inputs.words ?? 'word_ids']: int64(ids, [R, T]),
      [b.inputs.mask ?? 'mask']: float32(mask, [R, T]),
    };
    if (b.inputs.chars) feeds[b.inputs.chars] = int64(chars, [R, T, C]);
    const res = await b.session.run(feeds, this.o.stepId);
    const out: Record<string, Float32Array> = {};
    for (const [role, name] of Object.entries(b.outputs))
      out[role] = f32(res[name], `${this.o.stepId}: output ${name}`);
    return { T, out };
  }

  private async wordEmissions(batch: TaggerInput[]): Promise<Float32Array[]> {
    const L = this.labels.length;
    const rows = this.rows(batch, (s) => s.tokens.map(() => 1), this.window);
    const result = batch.map((s) => new Float32Array(s.tokens.length * L));
    if (rows.length === 0) return result;
    const { T, out } = await this.wordRun(batch, rows);
    const em = out.emissions;
    if (!em) throw new ModelError('runtime', `${this.o.stepId}: no emissions output`);
    if (em.length !== rows.length * T * L)
      throw new ModelError(
        'bundle',
        `${this.o.stepId}: emissions have ${em.length} values, expected ${rows.length}x${T}x${L} (labels in model.json)`,
      );
    rows.forEach((r, k) => {
      const dst = result[r.sentence];
      if (!dst) return;
      for (let t = r.window.ownStart; t < r.window.ownEnd; t++) {
        const src = (k * T + (t - r.window.start)) * L;
        dst.set(em.subarray(src, src + L), t * L);
      }
    });
    return result;
  }

  private async subwordEmissions(batch: TaggerInput[]): Promise<Float32Array[]> {
    const b = this.bundle;
    const tok = b.subwords;
    if (!tok) throw new ModelError('runtime', `${this.o.stepId}: no subword tokenizer`);
    const L = this.labels.length;
    const special = tok.prefix.length + tok.suffix.length;
    const budget = Math.max(1, this.window - special);
    // A single word longer than the whole window keeps its first `budget` pieces: its first subword (the
    // aligned one) is always kept, and no word of the sentence is dropped.
    const pieces = batch.map((s) => s.tokens.map((w) => tok.pieces(w).slice(0, budget)));
    const rows = this.rows(batch, (_, i) => pieces[i]?.map((p) => p.length) ?? [], budget);
    const result = batch.map((s) => new Float32Array(s.tokens.length * L));
    if (rows.length === 0) return result;
    const lens = rows.map((r) => {
      let c = special;
      for (let t = r.window.start; t < r.window.end; t++) c += pieces[r.sentence]?.[t]?.length ?? 0;
      return c;
    });
    const T = Math.max(...lens);
    const R = rows.length;
    const ids = new BigInt64Array(R * T).fill(BigInt(tok.padId));
    const mask = new BigInt64Array(R * T);
    const firstPos: number[][] = [];
    rows.forEach((r, k) => {
      let p = k * T;
      const put = (id: number): void => {
        ids[p] = BigInt(id);
        mask[p] = 1n;
        p++;
      };
      tok.prefix.forEach(put);
      const starts: number[] = [];
      for (let t = r.window.start; t < r.window.end; t++) {
        starts.push(p - k * T);
        (pieces[r.sentence]?.[t] ?? []).forEach(put);
      }
      starts.push(p - k * T);
      tok.suffix.forEach(put);
      firstPos.push(starts);
    });
    const feeds: Feeds = {
      [b.inputs.ids ?? 'input_ids']: int64(ids, [R, T]),
      [b.inputs.mask ?? 'attention_mask']: int64(mask, [R, T]),
    };
    if (b.inputs.types) feeds[b.inputs.types] = int64(new BigInt64Array(R * T), [R, T]);
    const res = await b.session.run(feeds, this.o.stepId);
    const name = b.outputs.emissions ?? 'logits';
    const lg = f32(res[name], `${this.o.stepId}: output ${name}`);
    if (lg.length !== R * T * L)
      throw new ModelError(
        'bundle',
        `${this.o.stepId}: ${name} has ${lg.length} values, expected ${R}x${T}x${L} (labels)`,
      );
    rows.forEach((r, k) => {
      const dst = result[r.sentence];
      const starts = firstPos[k];
      if (!dst || !starts) return;
      for (let t = r.window.ownStart; t < r.window.ownEnd; t++) {
        const i = t - r.window.start;
        const a = starts[i] ?? 0;
        const e = this.o.alignment === 'first' ? a + 1 : (starts[i + 1] ?? a + 1);
        for (let j = 0; j < L; j++) {
          let sum = 0;
          for (let q = a; q < e; q++) sum += lg[(k * T + q) * L + j] ?? 0;
          dst[t * L + j] = sum / (e - a);
        }
      }
    });
    return result;
  }

  private async predictSpans(batch: TaggerInput[]): Promise<TaggerOutput[]> {
    const W = this.bundle.maxSpanWidth ?? 8;
    const C = this.labels.length;
    const rows = this.rows(batch, (s) => s.tokens.map(() => 1), this.window);
    const starts = batch.map((s) => new Float32Array(s.tokens.length).fill(-Infinity));
    const ends = batch.map((s) => new Float32Array(s.tokens.length).fill(-Infinity));
    const spans = batch.map((s) => new Float32Array(s.tokens.length * W * C));
    if (rows.length > 0) {
      const { T, out } = await this.wordRun(batch, rows);
      const st = out.start;
      const en = out.end;
      const sp = out.span;
      if (!st || !en || !sp || sp.length !== rows.length * T * W * C)
        throw new ModelError(
          'bundle',
          `${this.o.stepId}: span outputs must be start [B,T], end [B,T], span [B,T,${W},${C}]`,
        );
      rows.forEach((r, k) => {
        for (let t = r.window.ownStart; t < r.window.ownEnd; t++) {
          const i = k * T + (t - r.window.start);
          starts[r.sentence]![t] = st[i] ?? -Infinity;
          ends[r.sentence]![t] = en[i] ?? -Infinity;
          spans[r.sentence]!.set(sp.subarray(i * W * C, (i + 1) * W * C), t * W * C);
        }
      });
    }
    return batch.map((s, b) => {
      const n = s.tokens.length;
      const found = decodeSpans(starts[b]!, ends[b]!, spans[b]!, n, W, this.labels, this.o.spanThreshold);
      const tags = flattenSpans(found, n);
      const scores = tags.map((_, i) =>
        Math.max(0, ...found.filter((e) => e.tokenStart <= i && i < e.tokenEnd).map((e) => e.score)),
      );
      return { tags, scores, entities: toEntities(found, s) };
    });
  }
}

function toEntities(spans: WordSpan[], s: TaggerInput): Entity[] {
  return spans.map((e) => ({
    start: s.offsets ? (s.offsets[e.tokenStart]?.[0] ?? -1) : -1,
    end: s.offsets ? (s.offsets[e.tokenEnd - 1]?.[1] ?? -1) : -1,
    type: e.type,
    score: e.score,
    tokenStart: e.tokenStart,
    tokenEnd: e.tokenEnd,
  }));
}
