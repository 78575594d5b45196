// Greedy decoding, independent samples (temperature/top-k/top-p) and teacher forcing: one row per
// returned sequence, each with its own rng (from its input's seed, so batching does not change it).
import { createRng, type Rng } from '../../engine/rng.ts';
import type { Decoding } from './decoding.ts';
import type { Generated } from './generator.ts';
import type { GenerateConfig } from './generateConfig.ts';
import { argmaxF64, sampleToken } from './sampling.ts';
import type { Cache, Encoded } from './seq2seqModel.ts';

/** Decodes B inputs, `per` rows each (samples, or 1 for greedy); one array of results per input. */
export async function sampleOrGreedy(
  d: Decoding,
  B: number,
  per: number,
  enc: Encoded,
  o: GenerateConfig,
): Promise<Generated[][]> {
  const c = d.model.bundle.config;
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
    const res = await d.model.step(tokens, enc, cache, o.useCache);
    cache = res.cache;
    for (let r = 0; r < R; r++) {
      let tok = c.padTokenId;
      if (!done[r]) {
        const lp = d.constraints.logProbs(res.logits, r, o, o.requiredSpans?.[Math.floor(r / per)], gen[r]);
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
    for (let k = 0; k < per; k++) row.push(d.result(gen[i * per + k]!, scores[i * per + k] ?? 0));
    out.push(row);
  }
  return out;
}
