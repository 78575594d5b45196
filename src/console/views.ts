// What the page shows of one output record: plain JSON views built from the records the topology
// wrote (NerPrediction, AugmentedSentence, RelationTriple). Built when a snapshot is taken, not when a
// record passes, so the hot path only keeps a reference.
import type { AugmentedSentence, NerPrediction, RelationTriple } from '../io/avro/types.generated.ts';

/** A run of a sentence: plain text, or an entity (type, concept id) and/or a changed token. */
export interface Segment {
  text: string;
  type?: string;
  conceptId?: string;
  conceptScore?: number;
  changed?: boolean;
}

/** One sentence of the predictions tail. */
export interface PredictionView {
  id: string;
  segments: Segment[];
  entities: number;
}

/** One augmented sentence beside its source. */
export interface AugmentedView {
  id: string;
  sourceId: string;
  method: string;
  valid: boolean;
  segments: Segment[];
  /** The source sentence (its entities marked), when the console saw it. */
  source: Segment[] | null;
  /** Why the generation was rejected (invalid records only). */
  reason: string | null;
}

/** One relation of the relations tail. */
export interface RelationView {
  sourceId: string;
  head: { text: string; type: string; conceptId: string | null };
  relation: string;
  tail: { text: string; type: string; conceptId: string | null };
  probability: number;
}

/** The kind of an output record, told apart by its fields (outputs carry no schema name). */
export type OutputKind = 'prediction' | 'augmented' | 'relation' | null;

/** Tells which record an output value is; null for records the console does not show. */
export function kindOf(v: unknown): OutputKind {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (Array.isArray(r.entities) && Array.isArray(r.tokens) && Array.isArray(r.tokenStarts))
    return 'prediction';
  if (typeof r.method === 'string' && typeof r.valid === 'boolean' && Array.isArray(r.tokens))
    return 'augmented';
  if (typeof r.relation === 'string' && typeof r.probability === 'number' && r.head && r.tail)
    return 'relation';
  return null;
}

/** A labeled sentence the console can show as the source of an augmentation. */
export interface SourceSentence {
  tokens: string[];
  tags: string[];
}

/** The prediction's tokens grouped into entity marks by the entities' character offsets. */
export function predictionView(p: NerPrediction): PredictionView {
  const segments: Segment[] = [];
  // Entities are authoritative (document rules edit them after tagging); tags may be stale for them.
  const entities = [...p.entities].sort((a, b) => a.start - b.start);
  let e = 0;
  let i = 0;
  // A token belongs to an entity when their character spans overlap (an entity may start inside a token).
  const overlaps = (k: number, ent: { start: number; end: number }): boolean =>
    (p.tokenStarts[k] ?? 0) < ent.end && (p.tokenEnds[k] ?? 0) > ent.start;
  while (i < p.tokens.length) {
    while (e < entities.length && entities[e]!.end <= (p.tokenStarts[i] ?? 0)) e++;
    const ent = entities[e];
    if (ent && overlaps(i, ent)) {
      const words: string[] = [];
      while (i < p.tokens.length && overlaps(i, ent)) words.push(p.tokens[i++]!);
      segments.push({
        text: words.join(' '),
        type: ent.type,
        ...(ent.conceptId !== null && ent.conceptId !== undefined ? { conceptId: ent.conceptId } : {}),
        ...(ent.conceptId ? { conceptScore: round(ent.conceptScore) } : {}),
      });
      e++;
    } else {
      segments.push({ text: p.tokens[i++]! });
    }
  }
  return { id: p.id, segments: mergePlain(segments), entities: p.entities.length };
}

/** Tokens with BIO tags as segments; `changed` marks tokens absent from `reference`. */
export function taggedSegments(tokens: string[], tags: string[], reference?: Set<string>): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tag = tags[i] ?? 'O';
    const changed = reference ? !reference.has(tokens[i]!) : false;
    const type = tag === 'O' ? undefined : tag.slice(2);
    const prev = out[out.length - 1];
    // I- continues the entity before it (same type); B- or a type change opens a new one.
    if (type && tag.startsWith('I-') && prev?.type === type) {
      prev.text += ` ${tokens[i]}`;
      if (changed) prev.changed = true;
      continue;
    }
    out.push({ text: tokens[i]!, ...(type ? { type } : {}), ...(changed ? { changed } : {}) });
  }
  return mergePlain(out);
}

/** The augmented record beside its source; changed tokens are those the source does not contain. */
export function augmentedView(a: AugmentedSentence, source: SourceSentence | undefined): AugmentedView {
  const ref = source ? new Set(source.tokens) : undefined;
  return {
    id: a.id,
    sourceId: a.sourceId,
    method: a.method,
    valid: a.valid,
    segments: a.valid
      ? taggedSegments(a.tokens, a.tags, ref)
      : [{ text: preview(a.generatedText ?? '', 300) }],
    source: source ? taggedSegments(source.tokens, source.tags) : null,
    reason: a.valid ? null : rejectReason(a),
  };
}

/**
 * Why a generation was rejected. Records the generator could not run on carry the reason in
 * generatedText ("(not generated: ...)"); the others are generations whose text did not
 * de-linearize into labels that match the source's entities.
 */
export function rejectReason(a: AugmentedSentence): string {
  // Records of schema v2 name their reason (de-linearizer reason or quality filter); read it when present.
  const named = (a as { rejectReason?: string | null }).rejectReason;
  if (named) return named;
  const m = /^\(not generated: (.*)\)$/.exec(a.generatedText ?? '');
  return m ? m[1]! : 'generated text did not de-linearize into valid labels';
}

/** The relation with its arguments' text, type and concept. */
export function relationView(r: RelationTriple): RelationView {
  const arg = (x: RelationTriple['head']) => ({ text: x.text, type: x.type, conceptId: x.conceptId ?? null });
  return {
    sourceId: r.sourceId,
    head: arg(r.head),
    relation: r.relation,
    tail: arg(r.tail),
    probability: round(r.probability),
  };
}

/** The first `max` characters of a text with control characters (binary payloads) shown as dots. */
export function preview(text: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.slice(0, max).replace(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/g, '·');
  return text.length > max ? `${clean}…` : clean;
}

function mergePlain(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const prev = out[out.length - 1];
    const plain = (x: Segment) => x.type === undefined && !x.changed;
    if (prev && plain(prev) && plain(s)) prev.text += ` ${s.text}`;
    else out.push({ ...s });
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
