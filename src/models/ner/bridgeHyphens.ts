// Raw text writes compound names with inner hyphens ("epsilon-aminocaproic acid", "5-HT") that the
// BC5CDR training tokens kept whole, while every other hyphen there is its own token. Tokenizing raw
// text with split hyphens and then bridging an O-tagged hyphen glued (no spaces) between two parts of
// the same entity type recovers the whole mention instead of two broken ones.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { mapStep } from '../../engine/step.ts';
import { bioToSpans } from '../../text/bio.ts';
import type { Tagged } from './tagEntities.ts';
import type { Entity } from './tokenTagger.ts';

/** Tags and entities after bridging; unchanged when nothing was bridged. */
export function bridgeHyphenTags(
  tokens: readonly string[],
  offsets: readonly [number, number][],
  tags: readonly string[],
  scores: readonly number[],
  entities: readonly Entity[],
): { tags: string[]; entities: Entity[] } {
  const out = [...tags];
  let changed = false;
  for (let i = 1; i + 1 < tokens.length; i++) {
    if (out[i] !== 'O' || !/^[-‐‑]$/u.test(tokens[i]!)) continue;
    const prev = out[i - 1]!;
    const next = out[i + 1]!;
    if (prev === 'O' || next === 'O') continue;
    const type = prev.slice(2);
    if (next.slice(2) !== type) continue;
    if (offsets[i - 1]![1] !== offsets[i]![0] || offsets[i]![1] !== offsets[i + 1]![0]) continue;
    out[i] = `I-${type}`;
    out[i + 1] = `I-${type}`;
    changed = true;
  }
  if (!changed) return { tags: out, entities: [...entities] };
  const mean = (a: number, b: number): number => {
    let s = 0;
    for (let k = a; k < b; k++) s += scores[k] ?? 0;
    return b > a ? s / (b - a) : 0;
  };
  return {
    tags: out,
    entities: bioToSpans(out).map((sp) => ({
      start: offsets[sp.start]![0],
      end: offsets[sp.end - 1]![1],
      type: sp.type,
      score: mean(sp.start, sp.end),
      tokenStart: sp.start,
      tokenEnd: sp.end,
    })),
  };
}

/** Config of {@link bridgeHyphens}; every field has a default. */
export const BridgeHyphensConfig = z
  .object({
    stepId: z.string().min(1).default('bridge-hyphens'),
    /** false passes sentences through unchanged (the step stays, so its metrics do too). */
    enabled: z.boolean().default(true),
  })
  .strict();

/** A tagged sentence with word tokens and their character offsets. */
export type TaggedWords = Tagged<{ tokens: string[]; offsets: [number, number][] }>;

/** NER post-processing: re-joins entity parts split at a glued hyphen (1:1, same key and ack token). */
export function bridgeHyphens<S extends TaggedWords>(
  config: Partial<z.input<typeof BridgeHyphensConfig>> = {},
): OperatorFunction<Envelope<S>, Envelope<S>> {
  const c = BridgeHyphensConfig.parse(config);
  return mapStep<S, S>(c.stepId, (s) =>
    c.enabled ? { ...s, ...bridgeHyphenTags(s.tokens, s.offsets, s.tags, s.tagScores, s.entities) } : s,
  );
}
