// Knowledge (BioAug step 5, fine-tuning pairs only): relation triples among the phrases kept by
// corruption, verbalized as `</s> head relation tail` after the corrupted sentence. The triples
// come from an injected source: a relation classifier, or the silver precompute files.
import { readFileSync } from 'node:fs';
import { TopologyInputError } from '../../engine/topology.ts';
import { SEP } from './labels.ts';
import type { Phrase } from './keywords.ts';

/** One relation between two phrases of a sentence. */
export interface Triple {
  head: string;
  relation: string;
  tail: string;
  /** Classifier confidence; higher first when triples are capped. */
  probability: number;
}

/** A kept phrase handed to a knowledge source: its token range and its text. */
export interface KeptPhrase extends Phrase {
  text: string;
  kind: 'entity' | 'keyword';
}

/** Returns triples among `kept` phrases of a sentence (each pair at most once). */
export type KnowledgeSource = (
  s: { id: string; tokens: readonly string[] },
  kept: readonly KeptPhrase[],
) => Triple[];

/**
 * Verbalizes triples as ` </s> head relation tail` segments: `NA` dropped, highest probability
 * first (ties keep order), at most `max` (the BioAug code keeps 5), duplicates removed.
 */
export function verbalizeKnowledge(triples: readonly Triple[], max = 5): string {
  const sorted = triples
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.relation !== 'NA' && t.relation.trim() !== '')
    .sort((a, b) => b.t.probability - a.t.probability || a.i - b.i);
  const seen = new Set<string>();
  let out = '';
  for (const { t } of sorted) {
    if (seen.size >= max) break;
    const v = `${t.head} ${t.relation} ${t.tail}`.replace(/\s+/g, ' ').trim();
    if (seen.has(v)) continue;
    seen.add(v);
    out += ` ${SEP} ${v}`;
  }
  return out;
}

interface ProcessedSentence {
  sentence: string[];
  labels: string[];
  id: string;
  type: string[];
}

/**
 * The silver knowledge of the shared splits: `relations/<ds>/<size>/train_processed.json`
 * (sentences as phrase lists) and `train_processed_precompute.json` ({id: {"i-j": {relation,
 * probability}}}, i and j phrase indices). Sentences are matched by their token text; kept phrases
 * are matched to the processed phrases by token range, so a pair is found only when both ranges
 * coincide with phrases of the precompute file.
 */
export function silverKnowledge(processedPath: string, precomputePath: string): KnowledgeSource {
  let processed: ProcessedSentence[];
  let precompute: Record<string, Record<string, { relation: string; probability: number }>>;
  try {
    processed = JSON.parse(readFileSync(processedPath, 'utf8')) as ProcessedSentence[];
    precompute = JSON.parse(readFileSync(precomputePath, 'utf8')) as typeof precompute;
  } catch (e) {
    throw new TopologyInputError('knowledge', `cannot read silver relations: ${(e as Error).message}`);
  }
  if (!Array.isArray(processed))
    throw new TopologyInputError('knowledge', `${processedPath}: expected a JSON array of sentences`);
  // sentence text -> (phrase "start:end" -> phrase index) and its relations
  const bySentence = new Map<
    string,
    { phraseIndex: Map<string, number>; rel: Record<string, { relation: string; probability: number }> }
  >();
  processed.forEach((p, n) => {
    if (!p || !Array.isArray(p.sentence))
      throw new TopologyInputError('knowledge', `${processedPath}: entry ${n} has no "sentence" phrase list`);
    const phraseIndex = new Map<string, number>();
    const tokens: string[] = [];
    p.sentence.forEach((phrase, i) => {
      const words = phrase.split(' ').filter(Boolean);
      phraseIndex.set(`${tokens.length}:${tokens.length + words.length}`, i);
      tokens.push(...words);
    });
    const rel = precompute[p.id];
    if (rel && !bySentence.has(tokens.join(' '))) bySentence.set(tokens.join(' '), { phraseIndex, rel });
  });
  return (s, kept) => {
    const entry = bySentence.get(s.tokens.join(' '));
    if (!entry) return [];
    const idx = kept.map((k) => entry.phraseIndex.get(`${k.start}:${k.end}`));
    const out: Triple[] = [];
    for (let a = 0; a < kept.length; a++) {
      for (let b = a + 1; b < kept.length; b++) {
        const i = idx[a];
        const j = idx[b];
        if (i === undefined || j === undefined) continue;
        const r = entry.rel[`${Math.min(i, j)}-${Math.max(i, j)}`];
        if (!r) continue;
        const [h, t] = i < j ? [kept[a]!, kept[b]!] : [kept[b]!, kept[a]!];
        out.push({ head: h.text, relation: r.relation, tail: t.text, probability: r.probability });
      }
    }
    return out;
  };
}
