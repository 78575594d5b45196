// What a generator may write next: special tokens other than EOS and the bundle's label tokens can be
// blocked, EOS can be (ignoreEos), and requiredSpans force each linearized entity in order. logProbs
// applies them to one row of logits and normalizes.
import type { Seq2SeqBundle } from '../bundle.ts';
import type { GenerateConfig } from './generateConfig.ts';

export class TokenConstraints {
  /** Special tokens blocked under allowedLabelTokensOnly (all but EOS and the label tokens). */
  private readonly specialBlocked: number[];
  /** The bundle's label tokens (`<b-disease>`, ...) by id. */
  readonly labelIds = new Set<number>();
  private readonly vocabSize: number;
  private readonly eosTokenId: number;

  constructor(bundle: Seq2SeqBundle) {
    const c = bundle.config;
    const tok = bundle.tokenizer;
    this.vocabSize = c.vocabSize;
    this.eosTokenId = c.eosTokenId;
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
  }

  /**
   * What `requiredSpans` allows next, given the tokens generated so far: `only` (inside a span, its
   * next token), or the label tokens and EOS to block (outside: every label but the next span's start).
   */
  spanConstraint(
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
    if (k < spans.length) block.push(this.eosTokenId);
    return { block };
  }

  /** Log-softmax (float64) of one row after the constraints (blocked specials, ignoreEos, required spans). */
  logProbs(
    logits: Float32Array,
    r: number,
    o: Pick<GenerateConfig, 'allowedLabelTokensOnly' | 'ignoreEos' | 'maxNewTokens'>,
    spans?: number[][],
    generated?: readonly number[],
  ): Float64Array {
    const V = this.vocabSize;
    const x = new Float64Array(V);
    for (let j = 0; j < V; j++) x[j] = logits[r * V + j] ?? -Infinity;
    if (o.allowedLabelTokensOnly) for (const id of this.specialBlocked) x[id] = -Infinity;
    if (o.ignoreEos) x[this.eosTokenId] = -Infinity;
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
}
