// Token choice over one step's log-probabilities: greedy argmax, top-k indices (also the beam's
// candidate list) and sampling with temperature, top-k and top-p. Pure functions of the scores and an
// injected rng, so a seed fixes every draw.
import type { Rng } from '../../engine/rng.ts';

/** Index of the largest of the first V values (ties to the lower index): the greedy choice. */
export function argmaxF64(x: Float64Array, V: number): number {
  let arg = 0;
  for (let j = 1; j < V; j++) if ((x[j] ?? -Infinity) > (x[arg] ?? -Infinity)) arg = j;
  return arg;
}

/** Indices of the k largest values, descending, ties to the lower index. */
export function topIndices(x: Float64Array, V: number, k: number): number[] {
  const top: number[] = [];
  for (let j = 0; j < V; j++) {
    const v = x[j] ?? -Infinity;
    if (top.length === k && v <= (x[top[k - 1]!] ?? -Infinity)) continue;
    let p = top.length;
    while (p > 0 && (x[top[p - 1]!] ?? -Infinity) < v) p--;
    top.splice(p, 0, j);
    if (top.length > k) top.pop();
  }
  return top;
}

/** Temperature, then top-k, then top-p (nucleus), then one draw from the renormalized distribution. */
export function sampleToken(
  lp: Float64Array,
  o: { topK: number; topP: number; temperature: number },
  rng: Rng,
): number {
  const V = lp.length;
  const order =
    o.topK > 0 && o.topK < V
      ? topIndices(lp, V, o.topK)
      : Array.from({ length: V }, (_, j) => j).sort((a, b) => (lp[b] ?? 0) - (lp[a] ?? 0) || a - b);
  const w = order.map((j) => Math.exp(((lp[j] ?? -Infinity) - (lp[order[0]!] ?? 0)) / o.temperature));
  let z = w.reduce((a, b) => a + b, 0);
  let keep = w.length;
  if (o.topP < 1) {
    let cum = 0;
    for (let i = 0; i < w.length; i++) {
      cum += (w[i] ?? 0) / z;
      if (cum >= o.topP) {
        keep = i + 1;
        break;
      }
    }
    z = w.slice(0, keep).reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * z;
  for (let i = 0; i < keep; i++) {
    u -= w[i] ?? 0;
    if (u < 0) return order[i]!;
  }
  return order[keep - 1]!;
}

/**
 * Beam sampling's candidates: k of the (beam, token) candidates drawn without replacement with
 * probability proportional to exp(score / temperature) (Gumbel-top-k: perturb each score with Gumbel
 * noise and keep the k largest, which is one draw of k without replacement), so the beam keeps
 * likely continuations without always keeping the most likely ones.
 */
export function drawCandidates<C extends { s: number }>(
  cands: readonly C[],
  k: number,
  o: { temperature: number },
  rng: Rng,
): C[] {
  const keyed = cands
    .filter((c) => c.s > -Infinity)
    .map((c) => {
      // 1 - next() lies in (0, 1], so the logarithms stay finite.
      const u = 1 - rng.next();
      return { c, key: c.s / o.temperature - Math.log(-Math.log(u) || Number.MIN_VALUE) };
    });
  keyed.sort((a, b) => b.key - a.key);
  return keyed.slice(0, k).map((x) => x.c);
}
