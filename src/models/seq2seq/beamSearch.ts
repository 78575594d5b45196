// Beam search and beam-sample (candidates drawn instead of taken best-first, BioAug's decoding),
// with the semantics of training/common/bart.py `reference_beam`; the cache rows follow their beams.
import { createRng } from '../../engine/rng.ts';
import type { Tensor } from '../backend.ts';
import type { Decoding } from './decoding.ts';
import type { Generated } from './generator.ts';
import type { GenerateConfig } from './generateConfig.ts';
import { drawCandidates, topIndices } from './sampling.ts';
import { gatherRows, type Cache, type Encoded } from './seq2seqModel.ts';

/** Beam search; the semantics are those of training/common/bart.py `reference_beam`. */
export async function beamSearch(
  d: Decoding,
  B: number,
  enc: Encoded,
  o: GenerateConfig,
): Promise<Generated[][]> {
  const c = d.model.bundle.config;
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
  const rngs =
    o.strategy === 'beam-sample'
      ? Array.from({ length: B }, (_, i) =>
          (o.seeds?.[i] !== undefined ? createRng(o.seeds[i]!) : createRng(o.seed).fork(i)).fork('beam'),
        )
      : null;
  const addHyp = (i: number, toks: number[], sum: number): void => {
    const h = hyps[i]!;
    h.push({ tokens: toks, score: sum / Math.pow(toks.length, o.lengthPenalty), sum });
    h.sort((a, b) => b.score - a.score);
    h.length = Math.min(h.length, nb);
  };
  for (let step = 0; step < o.maxNewTokens; step++) {
    const res = await d.model.step(tokens, enc, cache, o.useCache);
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
        const lp = d.constraints.logProbs(res.logits, r, o, o.requiredSpans?.[i], beams[r]);
        const base = scores[r] ?? -Infinity;
        const width = rngs ? Math.max(2 * nb, o.topK > 0 ? o.topK : V) : 2 * nb;
        for (const tok of topIndices(lp, V, width))
          cands.push({ j: b * V + tok, s: (lp[tok] ?? -Infinity) + base });
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
  return hyps.map((h) => h.slice(0, o.numReturnSequences).map((x) => d.result(x.tokens, x.score, x.sum)));
}
