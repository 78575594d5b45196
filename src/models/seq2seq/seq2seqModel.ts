// The model calls of a seq2seq bundle (Optimum layout): the encoder once per batch, then one decoder
// step at a time over every row, with the self-attention KV cache (separate decoder_with_past model or
// the merged decoder's cache branch) and the cross-attention cache kept from the first step.
import { bool, float32, f32, int64, type Feeds, type Tensor } from '../backend.ts';
import type { Seq2SeqBundle } from '../bundle.ts';
import { ModelError } from '../errors.ts';

/** The decoder's KV cache. */
export interface Cache {
  /** past_key_values.{i}.decoder.key|value by name (self-attention, grows each step). */
  self: Record<string, Tensor>;
  /** past_key_values.{i}.encoder.key|value (cross-attention, fixed). */
  cross: Record<string, Tensor>;
}

/** Encoder output and mask, one row per decoded sequence (beams or samples of an input repeated). */
export interface Encoded {
  hidden: Tensor;
  mask: Tensor;
}

export class Seq2SeqModel {
  constructor(
    readonly bundle: Seq2SeqBundle,
    private readonly stepId: string,
  ) {}

  /** Runs the encoder once per input, then repeats each row `per` times (beams / samples). */
  async encode(inputs: number[][], per: number): Promise<Encoded> {
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
  async step(
    tokens: number[][],
    enc: Encoded,
    cache: Cache | null,
    useCache: boolean,
  ): Promise<{ logits: Float32Array; cache: Cache }> {
    const b = this.bundle;
    const R = tokens.length;
    const V = b.config.vocabSize;
    const first = cache === null;
    const full = !useCache || first;
    const t = tokens[0]?.length ?? 1;
    const ids = full
      ? int64(tokens.flat(), [R, t])
      : int64(
          tokens.map((x) => x[x.length - 1] ?? 0),
          [R, 1],
        );
    const sess = full || b.merged ? b.decoder : b.decoderWithPast;
    if (!sess)
      throw new ModelError(
        'bundle',
        `${this.stepId}: ${b.dir} has no decoder_with_past_model.onnx; use useCache: false`,
      );
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
      throw new ModelError(
        'bundle',
        `${this.stepId}: decoder logits have ${lg.length} values, expected ${R}x?x${V} (vocab_size)`,
      );
    const last = new Float32Array(R * V);
    for (let r = 0; r < R; r++)
      last.set(lg.subarray((r * steps + steps - 1) * V, (r * steps + steps) * V), r * V);
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
    const dh =
      typeof shape[3] === 'number' && shape[3] > 0 ? shape[3] : Math.floor(c.dModel / c.decoderHeads);
    for (let i = 0; i < this.bundle.config.decoderLayers; i++)
      for (const kind of ['decoder', 'encoder'])
        for (const kv of ['key', 'value'])
          out[`past_key_values.${i}.${kind}.${kv}`] = float32(new Float32Array(R * heads * dh), [
            R,
            heads,
            1,
            dh,
          ]);
    return out;
  }
}

/** New tensor whose row r is row idx[r] of t (dimension 0); used to expand inputs and reorder beams. */
export function gatherRows(t: Tensor, idx: readonly number[]): Tensor {
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
