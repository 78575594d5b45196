import { z } from 'zod';
import { createRng, type Rng } from '../../engine/rng.ts';
import { bool, f32, float32, int64, type BackendOptions, type Feeds, type Tensor } from '../backend.ts';
import { disposeBundle, loadBundle, type Seq2SeqBundle } from '../bundle.ts';
import { ModelError } from '../errors.ts';
import { argmaxF64, drawCandidates, sampleToken, topIndices } from './sampling.ts';

export const generateOptionsSchema = z
  .object({
    /**
     * beam-sample: beam search whose candidates are drawn (top-k/top-p/temperature, without
     * replacement) instead of taken best-first, as BioAug generates ("top-k sampling with beam search").
     */
    strategy: z.enum(['greedy', 'sample', 'beam', 'beam-sample']).default('greedy'),
    /** Capped at the decoder's positions minus the start token. */
    maxNewTokens: z.number().int().min(1).max(4096).default(64),
    /** Sampling: keep the k most likely tokens (0 = all). */
    topK: z.number().int().min(0).default(0),
    /** Sampling: keep the smallest set of tokens whose probability reaches p. */
    topP: z.number().gt(0).max(1).default(1),
    temperature: z.number().gt(0).default(1),
    seed: z.number().int().default(0),
    /**
     * One seed per input (overrides `seed`): an input's samples then depend only on its own seed, not
     * on which batch it landed in, so dynamic batching keeps augmentations reproducible.
     */
    seeds: z.array(z.number().int()).optional(),
    numBeams: z.number().int().min(1).max(64).default(4),
    lengthPenalty: z.number().default(1),
    earlyStopping: z.boolean().default(true),
    /** Sequences per input: the best beams, or independent samples (greedy allows 1). */
    numReturnSequences: z.number().int().min(1).default(1),
    /** Among special tokens only EOS and the bundle's label tokens may be generated. */
    allowedLabelTokensOnly: z.boolean().default(false),
    /**
     * Entity-preserving constrained decoding, one list per input: token-id sequences (a linearized
     * entity, `<b-x> w <b-x> <i-x> w2 <i-x>`, encoded without <s>/</s>) that the output must hold in
     * this order. Each must start with a label token of the bundle. Outside them no label token may
     * be generated except the first token of the next one, which, once generated, forces the rest of
     * it; EOS is blocked until every one has been written. The free text around them stays sampled.
     */
    requiredSpans: z.array(z.array(z.array(z.number().int().nonnegative()))).optional(),
    /**
     * Teacher forcing, one token-id sequence per input (greedy only): the output is these tokens, then
     * EOS, and its score is their log-likelihood, so a given text can be scored as the model would
     * have written it (scoreTargets.ts).
     */
    forcedIds: z.array(z.array(z.number().int().nonnegative())).optional(),
    /** false: recompute the whole prefix each step with decoder_model.onnx (benchmark baseline). */
    useCache: z.boolean().default(true),
    /** Never stop at EOS (forces maxNewTokens, for benchmarks). */
    ignoreEos: z.boolean().default(false),
  })
  .strict();
export type GenerateOptions = z.input<typeof generateOptionsSchema>;
type Opts = z.infer<typeof generateOptionsSchema>;

/** One generated sequence: ids without the start token and without the final EOS; score as documented. */
export interface Generated {
  text: string;
  tokenIds: number[];
  /** greedy/sample: sum of token log-probabilities; beam: that sum / length ** lengthPenalty (EOS counted). */
  score: number;
  /** Mean token log-probability under the model (the sum over the tokens scored, EOS counted, / their count). */
  meanLogProb: number;
}

/** A loaded encoder-decoder. */
export interface Generator {
  readonly bundle: Seq2SeqBundle;
  /** Generates for a batch of texts: one array of `numReturnSequences` results per input. */
  generate(inputs: string[], opts?: GenerateOptions): Promise<Generated[][]>;
  /** Same, from token ids (special tokens included as the model expects them). */
  generateIds(inputs: number[][], opts?: GenerateOptions): Promise<Generated[][]>;
  /** Token ids of a text as the encoder sees it. */
  encode(text: string): number[];
  dispose(): Promise<void>;
}

/** Loads a seq2seq bundle (Optimum layout) and returns a batched generator. */
export async function createGenerator(
  dir: string,
  opts: { stepId?: string; backend?: BackendOptions } = {},
): Promise<Generator> {
  const b = (await loadBundle(dir, {
    task: 'seq2seq',
    ...(opts.backend ? { backend: opts.backend } : {}),
  })) as Seq2SeqBundle;
  return new Gen(b, opts.stepId ?? 'generate');
}

interface Cache {
  /** past_key_values.{i}.decoder.key|value by name (self-attention, grows each step). */
  self: Record<string, Tensor>;
  /** past_key_values.{i}.encoder.key|value (cross-attention, fixed). */
  cross: Record<string, Tensor>;
}

class Gen implements Generator {
  private readonly specialBlocked: number[];
  private readonly stripIds: Set<number>;
  private readonly labelIds = new Set<number>();

  constructor(
    readonly bundle: Seq2SeqBundle,
    private readonly stepId: string,
  ) {
    const c = bundle.config;
    const tok = bundle.tokenizer;
    const allowed = new Set<number>([c.eosTokenId]);
    for (const t of bundle.labelTokens) {
      const id = tok.token_to_id(t);
      if (id !== undefined) {
        allowed.add(id);
        this.labelIds.add(id);
      }
    }
    const specials = new Set<number>([c.bosTokenId, c.padTokenId]);
    for (const [id, t] of tok.get_added_tokens_decoder()) if (t.special) specials.add(id);
    this.specialBlocked = [...specials].filter((id) => !allowed.has(id) && id < c.vocabSize);
    this.stripIds = new Set([c.bosTokenId, c.eosTokenId, c.padTokenId]);
  }

  encode(text: string): number[] {
    return this.bundle.tokenizer.encode(text).ids;
  }

  generate(inputs: string[], opts: GenerateOptions = {}): Promise<Generated[][]> {
    return this.generateIds(
      inputs.map((t) => this.encode(t)),
      opts,
    );
  }

  async generateIds(inputs: number[][], opts: GenerateOptions = {}): Promise<Generated[][]> {
    const parsed = generateOptionsSchema.safeParse(opts);
    if (!parsed.success)
      throw new ModelError(
        'config',
        `${this.stepId}: generate options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (strategy: greedy, sample, beam, beam-sample)`,
      );
    const o = parsed.data;
    if (o.seeds && o.seeds.length !== inputs.length)
      throw new ModelError('config', `${this.stepId}: seeds has ${o.seeds.length} entries for ${inputs.length} inputs`);
    if (o.requiredSpans) {
      if (o.requiredSpans.length !== inputs.length)
        throw new ModelError('config', `${this.stepId}: requiredSpans has ${o.requiredSpans.length} entries for ${inputs.length} inputs`);
      o.requiredSpans.forEach((spans, i) =>
        spans.forEach((sp, k) => {
          if (sp.length === 0 || !this.labelIds.has(sp[0]!))
            throw new ModelError('config', `${this.stepId}: requiredSpans[${i}][${k}] must start with a label token of the bundle (${this.bundle.labelTokens.join(', ')})`);
        }),
      );
    }
    if (o.forcedIds && (o.strategy !== 'greedy' || o.forcedIds.length !== inputs.length))
      throw new ModelError('config', `${this.stepId}: forcedIds needs strategy greedy and one sequence per input (${inputs.length})`);
    if (o.strategy === 'greedy' && o.numReturnSequences > 1)
      throw new ModelError('config', `${this.stepId}: greedy returns one sequence; use sample or beam for more`);
    const beams = o.strategy === 'beam' || o.strategy === 'beam-sample';
    if (beams && o.numReturnSequences > o.numBeams)
      throw new ModelError('config', `${this.stepId}: numReturnSequences (${o.numReturnSequences}) > numBeams (${o.numBeams})`);
    // The decoder has maxPositionEmbeddings positions, the start token takes one: generation stops there.
    o.maxNewTokens = Math.min(o.maxNewTokens, this.bundle.config.maxPositionEmbeddings - 1);
    const maxS = this.bundle.config.maxPositionEmbeddings;
    inputs.forEach((ids, i) => {
      if (ids.length === 0) throw new ModelError('input', `${this.stepId}: input ${i} is empty`);
      if (ids.length > maxS)
        throw new ModelError('input', `${this.stepId}: input ${i} has ${ids.length} tokens, the encoder takes at most ${maxS}`);
    });
    if (inputs.length === 0) return [];
    const per = beams ? o.numBeams : o.strategy === 'sample' ? o.numReturnSequences : 1;
    const enc = await this.runEncoder(inputs, per);
    const results = beams ? await this.beam(inputs.length, enc, o) : await this.sampleOrGreedy(inputs.length, per, enc, o);
    return results;
  }

  dispose(): Promise<void> {
    return disposeBundle(this.bundle);
  }

  // ------------------------------------------------------------------ model calls

  /** Runs the encoder once per input, then repeats each row `per` times (beams / samples). */
  private async runEncoder(inputs: number[][], per: number): Promise<{ hidden: Tensor; mask: Tensor }> {
    const b = this.bundle;
    const B = inputs.length;
    const S = Math.max(...inputs.map((x) => x.length));
    const ids = new BigInt64Array(B * S).fill(BigInt(b.config.padTokenId));
    const mask = new BigInt64Array(B * S);
    inputs.forEach((x, i) =>
      x.forEach((id, j) => {
        ids[i * S + j] = BigInt(id);
        mask[i * S + j] = 1n;
      }),
    );
    const feeds: Feeds = { input_ids: int64(ids, [B, S]) };
    if (b.encoder.inputNames.includes('attention_mask')) feeds.attention_mask = int64(mask, [B, S]);
    const out = await b.encoder.run(feeds, `${this.stepId}.encoder`);
    const h = out.last_hidden_state;
    if (!h) throw new ModelError('bundle', `${this.stepId}: encoder returned no last_hidden_state`);
    const rows = Array.from({ length: B * per }, (_, r) => Math.floor(r / per));
    return { hidden: gatherRows(h, rows), mask: gatherRows(int64(mask, [B, S]), rows) };
  }

  /** One decoder step for every row: logits of the last position [R, V] and the updated cache. */
  private async step(
    tokens: number[][],
    enc: { hidden: Tensor; mask: Tensor },
    cache: Cache | null,
    o: Opts,
  ): Promise<{ logits: Float32Array; cache: Cache }> {
    const b = this.bundle;
    const R = tokens.length;
    const V = b.config.vocabSize;
    const first = cache === null;
    const full = !o.useCache || first;
    const t = tokens[0]?.length ?? 1;
    const ids = full
      ? int64(tokens.flat(), [R, t])
      : int64(
          tokens.map((x) => x[x.length - 1] ?? 0),
          [R, 1],
        );
    const sess = full || b.merged ? b.decoder : b.decoderWithPast;
    if (!sess)
      throw new ModelError('bundle', `${this.stepId}: ${b.dir} has no decoder_with_past_model.onnx; use useCache: false`);
    const feeds: Feeds = {
      input_ids: ids,
      encoder_attention_mask: enc.mask,
      encoder_hidden_states: enc.hidden,
    };
    if (b.merged) {
      feeds.use_cache_branch = bool([!full], [1]);
      Object.assign(feeds, full ? this.dummyPast(R) : { ...cache?.self, ...cache?.cross });
    } else if (!full && cache) Object.assign(feeds, cache.self, cache.cross);
    const names = new Set(sess.inputNames);
    for (const k of Object.keys(feeds)) if (!names.has(k)) delete feeds[k];
    const out = await sess.run(feeds, `${this.stepId}.decoder`);
    const lg = f32(out.logits, `${this.stepId}: decoder logits`);
    const steps = lg.length / (R * V);
    if (!Number.isInteger(steps))
      throw new ModelError('bundle', `${this.stepId}: decoder logits have ${lg.length} values, expected ${R}x?x${V} (vocab_size)`);
    const last = new Float32Array(R * V);
    for (let r = 0; r < R; r++) last.set(lg.subarray((r * steps + steps - 1) * V, (r * steps + steps) * V), r * V);
    const next: Cache = { self: {}, cross: cache?.cross ?? {} };
    for (let i = 0; i < b.config.decoderLayers; i++) {
      for (const kv of ['key', 'value']) {
        const p = out[`present.${i}.decoder.${kv}`];
        if (p) next.self[`past_key_values.${i}.decoder.${kv}`] = p;
        if (first) {
          const c = out[`present.${i}.encoder.${kv}`];
          if (c) next.cross[`past_key_values.${i}.encoder.${kv}`] = c;
        }
      }
    }
    return { logits: last, cache: next };
  }

  /** Empty past for the merged decoder's no-cache branch (ignored by the graph, but inputs must exist). */
  private dummyPast(R: number): Feeds {
    const out: Feeds = {};
    const shape = this.bundle.decoder.inputShape('past_key_values.0.decoder.key') ?? [];
    const c = this.bundle.config;
    const heads = typeof shape[1] === 'number' && shape[1] > 0 ? shape[1] : c.decoderHeads;
    const dh = typeof shape[3] === 'number' && shape[3] > 0 ? shape[3] : Math.floor(c.dModel / c.decoderHeads);
    for (let i = 0; i < this.bundle.config.decoderLayers; i++)
      for (const kind of ['decoder', 'encoder'])
        for (const kv of ['key', 'value'])
          out[`past_key_values.${i}.${kind}.${kv}`] = float32(new Float32Array(R * heads * dh), [R, heads, 1, dh]);
    return out;
  }

  /**
   * What `requiredSpans` allows next, given the tokens generated so far: `only` (inside a span, its
   * next token), or the label tokens and EOS to block (outside: every label but the next span's start).
   */
  private spanConstraint(
    spans: number[][],
    generated: readonly number[],
    maxNew: number,
  ): { only: number } | { block: number[] } {
    let k = 0;
    let pos = -1; // position inside spans[k] of the next token, -1 when outside
    for (const t of generated) {
      if (pos < 0 && k < spans.length && t === spans[k]![0]) pos = 0;
      if (pos < 0) continue;
      pos += 1;
      if (pos >= spans[k]!.length) {
        k += 1;
        pos = -1;
      }
    }
    if (pos >= 0) return { only: spans[k]![pos]! };
    let needed = 0;
    for (let j = k; j < spans.length; j++) needed += spans[j]!.length;
    if (needed > 0 && maxNew - generated.length <= needed) return { only: spans[k]![0]! };
    const block: number[] = [];
    const next = k < spans.length ? spans[k]![0] : undefined;
    for (const id of this.labelIds) if (id !== next) block.push(id);
    if (k < spans.length) block.push(this.bundle.config.eosTokenId);
    return { block };
  }

  /** Log-softmax (float64) of one row after the constraints (blocked specials, ignoreEos, required spans). */
  private logProbs(
    logits: Float32Array,
    r: number,
    o: Opts,
    spans?: number[][],
    generated?: readonly number[],
  ): Float64Array {
    const V = this.bundle.config.vocabSize;
    const x = new Float64Array(V);
    for (let j = 0; j < V; j++) x[j] = logits[r * V + j] ?? -Infinity;
    if (o.allowedLabelTokensOnly) for (const id of this.specialBlocked) x[id] = -Infinity;
    if (o.ignoreEos) x[this.bundle.config.eosTokenId] = -Infinity;
    if (spans && generated) {
      const c = this.spanConstraint(spans, generated, o.maxNewTokens);
      if ('only' in c) {
        // A forced token: after normalization its log-prob is 0, so it adds nothing to the score.
        x.fill(-Infinity);
        x[c.only] = 0;
      } else for (const id of c.block) x[id] = -Infinity;
    }
    let m = -Infinity;
    for (let j = 0; j < V; j++) if ((x[j] ?? -Infinity) > m) m = x[j] ?? m;
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp((x[j] ?? -Infinity) - m);
    const lz = m + Math.log(z);
    for (let j = 0; j < V; j++) x[j] = (x[j] ?? -Infinity) - lz;
    return x;
  }

  private result(ids: number[], score: number, sum = score): Generated {
    const eos = this.bundle.config.eosTokenId;
    const tokenIds = ids[ids.length - 1] === eos ? ids.slice(0, -1) : ids.slice();
    const visible = tokenIds.filter((t) => !this.stripIds.has(t));
    const text = visible.length ? this.bundle.tokenizer.decode(visible, { skip_special_tokens: false }).trim() : '';
    return { text, tokenIds, score, meanLogProb: ids.length ? sum / ids.length : 0 };
  }

  // ------------------------------------------------------------------ strategies

  private async sampleOrGreedy(
    B: number,
    per: number,
    enc: { hidden: Tensor; mask: Tensor },
    o: Opts,
  ): Promise<Generated[][]> {
    const c = this.bundle.config;
    const V = c.vocabSize;
    const R = B * per;
    const rngs: Rng[] = Array.from({ length: R }, (_, r) => {
      const own = o.seeds?.[Math.floor(r / per)];
      return own !== undefined
        ? createRng(own).fork(r % per)
        : createRng(o.seed)
            .fork(Math.floor(r / per))
            .fork(r % per);
    });
    const tokens = Array.from({ length: R }, () => [c.decoderStartTokenId]);
    const gen: number[][] = Array.from({ length: R }, () => []);
    const scores = new Float64Array(R);
    const done = new Uint8Array(R);
    let cache: Cache | null = null;
    for (let s = 0; s < o.maxNewTokens; s++) {
      const res = await this.step(tokens, enc, cache, o);
      cache = res.cache;
      for (let r = 0; r < R; r++) {
        let tok = c.padTokenId;
        if (!done[r]) {
          const lp = this.logProbs(res.logits, r, o, o.requiredSpans?.[Math.floor(r / per)], gen[r]);
          const forced = o.forcedIds?.[Math.floor(r / per)];
          tok = forced
            ? (forced[gen[r]!.length] ?? c.eosTokenId)
            : o.strategy === 'greedy'
              ? argmaxF64(lp, V)
              : sampleToken(lp, o, rngs[r]!);
          scores[r] = (scores[r] ?? 0) + (lp[tok] ?? 0);
          gen[r]!.push(tok);
          if (tok === c.eosTokenId) done[r] = 1;
        }
        tokens[r]!.push(tok);
      }
      if (done.every((d) => d === 1)) break;
    }
    const out: Generated[][] = [];
    for (let i = 0; i < B; i++) {
      const row: Generated[] = [];
      for (let k = 0; k < per; k++) row.push(this.result(gen[i * per + k]!, scores[i * per + k] ?? 0));
      out.push(row);
    }
    return out;
  }

  /** Beam search; the semantics are those of training/common/bart.py `reference_beam`. */
  private async beam(B: number, enc: { hidden: Tensor; mask: Tensor }, o: Opts): Promise<Generated[][]> {
    const c = this.bundle.config;
    const V = c.vocabSize;
    const nb = o.numBeams;
    const R = B * nb;
    type Hyp = { tokens: number[]; score: number; sum: number };
    const beams: number[][] = Array.from({ length: R }, () => []);
    const scores = Array.from({ length: R }, (_, r) => (r % nb === 0 ? 0 : -Infinity));
    const hyps: Hyp[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let tokens = Array.from({ length: R }, () => [c.decoderStartTokenId]);
    let cache: Cache | null = null;
    // beam-sample: one rng per input, from its own seed, so batching does not change its draws.
    const rngs = o.strategy === 'beam-sample' ? Array.from({ length: B }, (_, i) => (o.seeds?.[i] !== undefined ? createRng(o.seeds[i]!) : createRng(o.seed).fork(i)).fork('beam')) : null;
    const addHyp = (i: number, toks: number[], sum: number): void => {
      const h = hyps[i]!;
      h.push({ tokens: toks, score: sum / Math.pow(toks.length, o.lengthPenalty), sum });
      h.sort((a, b) => b.score - a.score);
      h.length = Math.min(h.length, nb);
    };
    for (let step = 0; step < o.maxNewTokens; step++) {
      const res = await this.step(tokens, enc, cache, o);
      cache = res.cache;
      const src = Array.from({ length: R }, (_, r) => r);
      // Finished inputs keep stepping with pad (their rows are ignored) so every row has the same length.
      const nextTokens = tokens.map((t) => [...t, c.padTokenId]);
      let allDone = true;
      for (let i = 0; i < B; i++) {
        if (done[i]) continue;
        // Top 2*nb candidates over (beam, token), descending, ties to the lower flat index.
        const cands: { j: number; s: number }[] = [];
        for (let b = 0; b < nb; b++) {
          const r = i * nb + b;
          const lp = this.logProbs(res.logits, r, o, o.requiredSpans?.[i], beams[r]);
          const base = scores[r] ?? -Infinity;
          const width = rngs ? Math.max(2 * nb, o.topK > 0 ? o.topK : V) : 2 * nb;
          for (const tok of topIndices(lp, V, width)) cands.push({ j: b * V + tok, s: (lp[tok] ?? -Infinity) + base });
        }
        if (rngs) cands.splice(0, cands.length, ...drawCandidates(cands, 2 * nb, o, rngs[i]!));
        cands.sort((a, b) => b.s - a.s || a.j - b.j);
        const next: { tokens: number[]; score: number; from: number; tok: number }[] = [];
        for (let rank = 0; rank < Math.min(cands.length, 2 * nb); rank++) {
          const { j, s } = cands[rank]!;
          const b = Math.floor(j / V);
          const tok = j % V;
          if (s === -Infinity) continue;
          if (tok === c.eosTokenId) {
            if (rank < nb) addHyp(i, [...beams[i * nb + b]!, tok], s);
            continue;
          }
          next.push({ tokens: [...beams[i * nb + b]!, tok], score: s, from: i * nb + b, tok });
          if (next.length === nb) break;
        }
        const curLen = step + 1;
        let isDone = false;
        const h = hyps[i]!;
        if (h.length >= nb) {
          if (o.earlyStopping) isDone = true;
          else {
            const bestLive = next.length ? Math.max(...next.map((x) => x.score)) : -Infinity;
            isDone = bestLive / Math.pow(curLen, o.lengthPenalty) <= (h[h.length - 1]?.score ?? -Infinity);
          }
        }
        if (isDone || step === o.maxNewTokens - 1 || next.length === 0) {
          if (!isDone) for (const x of next) addHyp(i, x.tokens, x.score);
          done[i] = true;
          continue;
        }
        allDone = false;
        for (let b = 0; b < nb; b++) {
          const r = i * nb + b;
          const x = next[b];
          if (!x) {
            scores[r] = -Infinity;
            continue;
          }
          beams[r] = x.tokens;
          scores[r] = x.score;
          src[r] = x.from;
          nextTokens[r] = [...(tokens[x.from] ?? []), x.tok];
        }
      }
      if (allDone) break;
      tokens = nextTokens;
      if (o.useCache && cache) {
        const reordered: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(cache.self)) reordered[k] = gatherRows(v, src);
        cache = { self: reordered, cross: cache.cross };
      }
    }
    return hyps.map((h) => h.slice(0, o.numReturnSequences).map((x) => this.result(x.tokens, x.score, x.sum)));
  }
}

/** New tensor whose row r is row idx[r] of t (dimension 0); used to expand inputs and reorder beams. */
function gatherRows(t: Tensor, idx: readonly number[]): Tensor {
  const dims = t.dims;
  const rowSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const newDims = [idx.length, ...dims.slice(1)];
  if (t.data instanceof Float32Array) {
    const src = t.data;
    const out = new Float32Array(idx.length * rowSize);
    idx.forEach((r, k) => out.set(src.subarray(r * rowSize, (r + 1) * rowSize), k * rowSize));
    return float32(out, newDims);
  }
  if (t.data instanceof BigInt64Array) {
    const src = t.data;
    const out = new BigInt64Array(idx.length * rowSize);
    idx.forEach((r, k) => out.set(src.subarray(r * rowSize, (r + 1) * rowSize), k * rowSize));
    return int64(out, newDims);
  }
  throw new ModelError('runtime', `gatherRows: unsupported tensor type ${t.type}`);
}
