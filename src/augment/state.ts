// State the simple augmenters learn from a training set: the mention pool per type (MR) and the
// token distribution per label (LwTR). Built once, saved as JSON, loaded by workers.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { bioToSpans } from '../text/bio.ts';
import type { Rng } from '../engine/rng.ts';
import { TopologyInputError } from '../engine/topology.ts';
import { checkSentence } from './validate.ts';

/** Serialized augmenter state (JSON). */
export interface AugmentStateJson {
  version: 1;
  /** Distinct mentions per entity type, each a token list, in first-seen order. */
  mentions: Record<string, string[][]>;
  /** Per tag (`O`, `B-X`, `I-X`): distinct tokens and their counts, in first-seen order. */
  labelTokens: Record<string, { tokens: string[]; counts: number[] }>;
}

const StateSchema = z.object({
  version: z.literal(1),
  mentions: z.record(z.string(), z.array(z.array(z.string().min(1)).min(1))),
  labelTokens: z.record(
    z.string(),
    z.object({ tokens: z.array(z.string().min(1)), counts: z.array(z.number().int().positive()) }),
  ),
});

/** A token distribution ready for O(log n) sampling. */
export interface Distribution {
  tokens: string[];
  /** Cumulative counts: cumulative[i] = counts[0] + ... + counts[i]. */
  cumulative: Float64Array;
  total: number;
}

/** Loaded state with sampling structures. */
export interface AugmentState {
  json: AugmentStateJson;
  mentions: Map<string, string[][]>;
  labels: Map<string, Distribution>;
}

/** Builds MR pools and LwTR distributions from training sentences (validated as they come). */
export function buildAugmentState(
  sentences: Iterable<{ id: string; tokens: string[]; tags: string[] }>,
): AugmentState {
  const mentions: Record<string, string[][]> = {};
  const seen = new Map<string, Set<string>>();
  const labelTokens: Record<string, { tokens: string[]; counts: number[] }> = {};
  const index = new Map<string, Map<string, number>>();
  for (const s of sentences) {
    checkSentence(s, 'augment-state');
    for (const sp of bioToSpans(s.tags)) {
      const toks = s.tokens.slice(sp.start, sp.end);
      const key = toks.join(' ');
      let set = seen.get(sp.type);
      if (!set) seen.set(sp.type, (set = new Set()));
      if (set.has(key)) continue;
      set.add(key);
      (mentions[sp.type] ??= []).push(toks);
    }
    for (let i = 0; i < s.tokens.length; i++) {
      const tag = s.tags[i]!;
      const tok = s.tokens[i]!;
      let m = index.get(tag);
      const d = (labelTokens[tag] ??= { tokens: [], counts: [] });
      if (!m) index.set(tag, (m = new Map()));
      const at = m.get(tok);
      if (at === undefined) {
        m.set(tok, d.tokens.length);
        d.tokens.push(tok);
        d.counts.push(1);
      } else d.counts[at]! += 1;
    }
  }
  return fromJson({ version: 1, mentions, labelTokens });
}

function fromJson(json: AugmentStateJson): AugmentState {
  const labels = new Map<string, Distribution>();
  for (const [tag, d] of Object.entries(json.labelTokens)) {
    if (d.tokens.length !== d.counts.length)
      throw new TopologyInputError(
        'augment-state',
        `label ${tag}: ${d.tokens.length} tokens but ${d.counts.length} counts`,
      );
    const cumulative = new Float64Array(d.counts.length);
    let total = 0;
    for (let i = 0; i < d.counts.length; i++) cumulative[i] = total += d.counts[i]!;
    labels.set(tag, { tokens: d.tokens, cumulative, total });
  }
  return { json, mentions: new Map(Object.entries(json.mentions)), labels };
}

/** Draws a token from a label distribution in proportion to its training count. */
export function sampleToken(d: Distribution, rng: Rng): string {
  const x = rng.next() * d.total;
  let lo = 0;
  let hi = d.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (d.cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return d.tokens[lo]!;
}

/** Writes state as JSON. */
export function saveAugmentState(state: AugmentState, path: string): void {
  writeFileSync(path, JSON.stringify(state.json));
}

/** Parses and validates state JSON (as written by {@link saveAugmentState}). */
export function parseAugmentState(text: string, source = 'state'): AugmentState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TopologyInputError('augment-state', `${source}: not JSON (${(e as Error).message})`);
  }
  const r = StateSchema.safeParse(raw);
  if (!r.success)
    throw new TopologyInputError(
      'augment-state',
      `${source}: invalid state: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`,
    );
  return fromJson(r.data as AugmentStateJson);
}

/** Loads state saved by {@link saveAugmentState}. */
export function loadAugmentState(path: string): AugmentState {
  return parseAugmentState(readFileSync(path, 'utf8'), path);
}
