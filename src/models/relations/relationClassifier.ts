import { z } from 'zod';
import { f32, float32, int64, type BackendConfig, type Feeds } from '../backend.ts';
import { disposeBundle, loadBundle, type RelationBundle } from '../bundle.ts';
import { ModelError } from '../errors.ts';

/** A phrase pair in a sentence: token spans [start, end). */
export interface PhrasePair {
  head: [number, number];
  tail: [number, number];
}

export interface RelationInput {
  tokens: string[];
  pairs: PhrasePair[];
}

/** Relation of one pair; `skipped` says why a pair was not classified (cap or window), label then null. */
export interface RelationOutput {
  label: string | null;
  probability: number;
  skipped?: 'cap' | 'window';
}

export interface RelationClassifier {
  readonly bundle: RelationBundle;
  readonly labels: readonly string[];
  /** Classifies every pair of every sentence in one model run (rows = pairs). */
  predict(items: RelationInput[]): Promise<RelationOutput[][]>;
  dispose(): Promise<void>;
}

/** Config of {@link createRelationClassifier}; every field has a default. */
export const RelationClassifierConfig = z
  .object({
    stepId: z.string().default('relations'),
    /** Pairs per sentence beyond this are reported as skipped: 'cap' (quadratic pair counts stay bounded). */
    maxPairsPerSentence: z.number().int().min(1).default(32),
    backend: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type RelationClassifierConfig = z.output<typeof RelationClassifierConfig>;

/** Loads a relation-classification bundle and returns a classifier batched over pairs. */
export async function createRelationClassifier(
  dir: string,
  opts: z.input<typeof RelationClassifierConfig> = {},
): Promise<RelationClassifier> {
  const o = RelationClassifierConfig.parse(opts);
  const bundle = (await loadBundle(dir, {
    task: 'relation-classification',
    ...(o.backend ? { backend: o.backend as z.input<typeof BackendConfig> } : {}),
  })) as RelationBundle;
  return {
    bundle,
    labels: bundle.labels,
    predict: (items) => predict(bundle, o, items),
    dispose: () => disposeBundle(bundle),
  };
}

async function predict(
  b: RelationBundle,
  o: RelationClassifierConfig,
  items: RelationInput[],
): Promise<RelationOutput[][]> {
  const out: RelationOutput[][] = items.map((it) => it.pairs.map(() => ({ label: null, probability: 0 })));
  const rows: { item: number; pair: number; lo: number; hi: number }[] = [];
  items.forEach((it, i) => {
    const n = it.tokens.length;
    it.pairs.forEach((p, k) => {
      for (const [s, e] of [p.head, p.tail])
        if (!(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s < e && e <= n))
          throw new ModelError(
            'input',
            `${o.stepId}: sentence ${i} pair ${k}: span [${s}, ${e}) is not inside 0..${n}`,
          );
      if (k >= o.maxPairsPerSentence) {
        out[i]![k] = { label: null, probability: 0, skipped: 'cap' };
        return;
      }
      // Long sentences: a window of maxLength words around both phrases (never cutting either).
      const a = Math.min(p.head[0], p.tail[0]);
      const z2 = Math.max(p.head[1], p.tail[1]);
      if (z2 - a > b.maxLength) {
        out[i]![k] = { label: null, probability: 0, skipped: 'window' };
        return;
      }
      const lo =
        n <= b.maxLength
          ? 0
          : Math.max(0, Math.min(a - Math.floor((b.maxLength - (z2 - a)) / 2), n - b.maxLength));
      rows.push({ item: i, pair: k, lo, hi: Math.min(n, lo + b.maxLength) });
    });
  });
  if (rows.length === 0) return out;
  const R = rows.length;
  const T = Math.max(...rows.map((r) => r.hi - r.lo));
  const C = b.chars?.maxWordLength ?? 0;
  const ids = new BigInt64Array(R * T);
  const chars = new BigInt64Array(R * T * C);
  const mask = new Float32Array(R * T);
  const head = new Float32Array(R * T);
  const tail = new Float32Array(R * T);
  rows.forEach((r, k) => {
    const it = items[r.item]!;
    const p = it.pairs[r.pair]!;
    for (let t = r.lo; t < r.hi; t++) {
      const q = k * T + t - r.lo;
      const w = it.tokens[t] ?? '';
      ids[q] = b.words.bigId(w);
      b.chars?.fill(w, chars, q * C);
      mask[q] = 1;
      head[q] = t >= p.head[0] && t < p.head[1] ? 1 : 0;
      tail[q] = t >= p.tail[0] && t < p.tail[1] ? 1 : 0;
    }
  });
  const feeds: Feeds = {
    [b.inputs.words ?? 'word_ids']: int64(ids, [R, T]),
    [b.inputs.mask ?? 'mask']: float32(mask, [R, T]),
    [b.inputs.head ?? 'head_mask']: float32(head, [R, T]),
    [b.inputs.tail ?? 'tail_mask']: float32(tail, [R, T]),
  };
  if (b.inputs.chars) feeds[b.inputs.chars] = int64(chars, [R, T, C]);
  const res = await b.session.run(feeds, o.stepId);
  const name = b.outputs.logits ?? 'logits';
  const lg = f32(res[name], `${o.stepId}: output ${name}`);
  const L = b.labels.length;
  if (lg.length !== R * L)
    throw new ModelError(
      'bundle',
      `${o.stepId}: ${name} has ${lg.length} values, expected ${R}x${L} (labels in model.json)`,
    );
  rows.forEach((r, k) => {
    let m = -Infinity;
    let arg = 0;
    for (let j = 0; j < L; j++) {
      const v = lg[k * L + j] ?? -Infinity;
      if (v > m) {
        m = v;
        arg = j;
      }
    }
    let z = 0;
    for (let j = 0; j < L; j++) z += Math.exp((lg[k * L + j] ?? 0) - m);
    out[r.item]![r.pair] = { label: b.labels[arg] ?? null, probability: 1 / z };
  });
  return out;
}
