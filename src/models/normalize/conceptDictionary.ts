// A concept dictionary: entity names (per type) with the concept ids they were annotated with, looked
// up in tiers from strict to loose (exact, normalized, bag of words, head words) with a character
// trigram similarity ranker as the last resort. Each answer carries a score in [0, 1]; the caller
// turns answers below its threshold into "-1" (unsure), the CDR convention for "no concept".
import { ModelError } from '../errors.ts';
import {
  afterCause,
  bagKey,
  canonicalWords,
  foldCase,
  nameWords,
  stemKey,
  trigrams,
} from './conceptNames.ts';

/** One dictionary name: a surface form of an entity type seen with a concept id `count` times. */
export interface DictionaryEntry {
  type: string;
  name: string;
  id: string;
  count: number;
}

/** The serialized dictionary (the bundle's dictionary file). */
export interface DictionaryJson {
  format: 'bioaug-concept-dictionary';
  version: 1;
  /** [type, name, id, count] rows: compact on disk. */
  entries: Array<[string, string, string, number]>;
}

/** Which tier answered a lookup. */
export type LookupTier = 'exact' | 'normalized' | 'bag' | 'stem' | 'head' | 'similar';

/** A lookup answer: the concept id, its score, the tier and the dictionary name it came from. */
export interface LookupResult {
  id: string;
  score: number;
  tier: LookupTier;
  name: string;
}

/** The unknown concept of the CDR gold ("-1"). */
export const UNKNOWN_CONCEPT = '-1';

// Tier weights: a looser match is less certain even when the name is unambiguous.
const TIER_WEIGHT: Record<LookupTier, number> = {
  exact: 1,
  normalized: 0.97,
  bag: 0.93,
  stem: 0.9,
  head: 0.8,
  similar: 0.9,
};

type Votes = Map<string, number>;

const SALT_WORDS = new Set(
  'hydrochloride hcl sulfate sulphate maleate citrate tartrate mesylate acetate phosphate sodium potassium chloride bromide fumarate succinate besylate dihydrate monohydrate'.split(
    ' ',
  ),
);

function vote(m: Map<string, Votes>, key: string, id: string, n: number): void {
  if (key === '') return;
  let v = m.get(key);
  if (!v) m.set(key, (v = new Map()));
  v.set(id, (v.get(id) ?? 0) + n);
}

/** The most frequent id among the votes and its share of them (ties: the first seen). */
function best(v: Votes): { id: string; share: number } {
  let id = '';
  let top = -1;
  let total = 0;
  for (const [k, n] of v) {
    total += n;
    if (n > top) {
      top = n;
      id = k;
    }
  }
  return { id, share: total > 0 ? top / total : 0 };
}

interface TypeIndex {
  exact: Map<string, Votes>;
  normalized: Map<string, Votes>;
  bag: Map<string, Votes>;
  /** Sorted canonical words (organ/process synonyms folded): the synonym tier. */
  canonical: Map<string, Votes>;
  /** Stemmed words, order-free: the stem tier ("necrotic" meets "necrosis"). */
  stem: Map<string, Votes>;
  /** Distinct normalized names with their TF-IDF weighted trigram vectors, for the similarity ranker. */
  names: Array<{ name: string; norm: number; grams: Map<string, number> }>;
  /** Inverse document frequency of each trigram over the names (rare trigrams weigh more). */
  idf: Map<string, number>;
  /** The idf of a trigram no name has (the query's own unmatched trigrams still count in its norm). */
  unseenIdf: number;
  /** trigram -> indexes into names (candidate generation without scanning every name). */
  postings: Map<string, number[]>;
  /** Per-name shared-trigram counters of the ranker, allocated on first use and left zeroed. */
  scratch?: Int32Array;
}

function gramCounts(norm: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of trigrams(norm)) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
}

/** Trigram counts weighted by their idf over the type's names (TF-IDF). */
function weigh(counts: Map<string, number>, ix: TypeIndex): Map<string, number> {
  const w = new Map<string, number>();
  for (const [g, c] of counts) w.set(g, c * (ix.idf.get(g) ?? ix.unseenIdf));
  return w;
}

function l2(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v * v;
  return Math.sqrt(s);
}

const STOP = new Set(['of', 'the', 'and', 'in', 'a', 'an', 'to', 'with', 'by', 'on', 'for']);

/** Order-free key with organ/process synonyms folded. */
function canonicalKey(words: readonly string[]): string {
  return [...new Set(canonicalWords(words).filter((w) => !STOP.has(w)))].sort().join(' ');
}

/** Options of {@link ConceptDictionary.lookup}. */
export interface LookupOptions {
  /** Try the similarity ranker when the other tiers miss (default true). */
  similar?: boolean;
  /** Candidates scored by cosine in the ranker (default 200: the ones sharing most trigrams). */
  maxCandidates?: number;
}

/** An in-memory concept dictionary with tiered lookup. Build it from entries or from its JSON. */
export class ConceptDictionary {
  private readonly byType = new Map<string, TypeIndex>();
  // Mention strings repeat across abstracts: lookups are cached by (type, text, options), bounded (the
  // oldest entry goes first), so the trigram ranker runs once per distinct string while memory stays flat.
  private readonly cache = new Map<string, LookupResult | null>();

  private readonly cacheSize: number;

  /** `cacheSize`: most lookups kept (default 20,000 strings, a few MB). */
  constructor(
    readonly entries: readonly DictionaryEntry[],
    opts: { cacheSize?: number } = {},
  ) {
    this.cacheSize = Math.max(0, opts.cacheSize ?? 20_000);
    for (const e of entries) this.add(e);
    for (const ix of this.byType.values()) this.indexNames(ix);
  }

  /** Loads a dictionary from its JSON (the bundle file); throws ModelError 'bundle' when malformed. */
  static fromJson(j: unknown, file = 'dictionary'): ConceptDictionary {
    const d = j as Partial<DictionaryJson> | null;
    if (!d || d.format !== 'bioaug-concept-dictionary' || !Array.isArray(d.entries))
      throw new ModelError('bundle', `${file}: not a bioaug-concept-dictionary (format, entries)`);
    const entries: DictionaryEntry[] = d.entries.map((r, i) => {
      if (
        !Array.isArray(r) ||
        typeof r[0] !== 'string' ||
        typeof r[1] !== 'string' ||
        typeof r[2] !== 'string' ||
        typeof r[3] !== 'number'
      )
        throw new ModelError('bundle', `${file}: entry ${i} is not [type, name, id, count]`);
      return { type: r[0], name: r[1], id: r[2], count: r[3] };
    });
    return new ConceptDictionary(entries);
  }

  /** The JSON written to the bundle. */
  toJson(): DictionaryJson {
    return {
      format: 'bioaug-concept-dictionary',
      version: 1,
      entries: this.entries.map((e) => [e.type, e.name, e.id, e.count]),
    };
  }

  /** Entity types the dictionary has names for. */
  get types(): string[] {
    return [...this.byType.keys()];
  }

  private index(type: string): TypeIndex {
    let ix = this.byType.get(type);
    if (!ix)
      this.byType.set(
        type,
        (ix = {
          exact: new Map(),
          normalized: new Map(),
          bag: new Map(),
          canonical: new Map(),
          stem: new Map(),
          names: [],
          postings: new Map(),
          idf: new Map(),
          unseenIdf: 1,
        }),
      );
    return ix;
  }

  private add(e: DictionaryEntry): void {
    const ix = this.index(e.type);
    vote(ix.exact, foldCase(e.name), e.id, e.count);
    vote(ix.normalized, nameWords(e.name).join(' '), e.id, e.count);
    vote(ix.bag, bagKey(e.name), e.id, e.count);
    vote(ix.canonical, canonicalKey(nameWords(e.name)), e.id, e.count);
    if (!e.id.includes('|')) vote(ix.stem, stemKey(e.name), e.id, e.count);
  }

  private indexNames(ix: TypeIndex): void {
    // Names annotated as composites ("ocular and auditory toxicity": two ids) answer only when matched
    // whole; as a loose candidate they would hand both ids to a mention that names one of them.
    const keys = [...ix.normalized.entries()].filter(([, v]) => !best(v).id.includes('|')).map(([k]) => k);
    const counts = keys.map(gramCounts);
    const df = new Map<string, number>();
    for (const c of counts) for (const g of c.keys()) df.set(g, (df.get(g) ?? 0) + 1);
    for (const [g, n] of df) ix.idf.set(g, Math.log((1 + keys.length) / (1 + n)) + 1);
    ix.unseenIdf = Math.log(1 + keys.length) + 1;
    keys.forEach((name, k) => {
      const grams = weigh(counts[k]!, ix);
      ix.names.push({ name, norm: l2(grams), grams });
      for (const g of grams.keys()) {
        let p = ix.postings.get(g);
        if (!p) ix.postings.set(g, (p = []));
        p.push(k);
      }
    });
  }

  /** Looks a name of `type` up, strict tiers first; null when nothing matches at all. */
  lookup(text: string, type: string, opts: LookupOptions = {}): LookupResult | null {
    const key = `${type}\t${opts.similar === false ? 0 : 1}\t${opts.maxCandidates ?? 200}\t${text}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const r = this.lookupUncached(text, type, opts);
    if (this.cacheSize === 0) return r;
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, r);
    return r;
  }

  /** Lookups currently cached (for tests and metrics). */
  get cachedLookups(): number {
    return this.cache.size;
  }

  private lookupUncached(text: string, type: string, opts: LookupOptions): LookupResult | null {
    const ix = this.byType.get(type);
    if (!ix) return null;
    const folded = foldCase(text);
    const words = nameWords(text);
    const norm = words.join(' ');
    const tiers: Array<[LookupTier, Map<string, Votes>, string]> = [
      ['exact', ix.exact, folded],
      ['normalized', ix.normalized, norm],
      ['bag', ix.bag, bagKey(text)],
      ['bag', ix.canonical, canonicalKey(words)],
      ['stem', ix.stem, stemKey(text)],
    ];
    for (const [tier, map, key] of tiers) {
      const v = map.get(key);
      if (v) {
        const b = best(v);
        return { id: b.id, score: TIER_WEIGHT[tier] * (0.5 + 0.5 * b.share), tier, name: key };
      }
    }
    // The disease of "X-induced disease" (CDR annotates it without the cause).
    const after = afterCause(words);
    if (after) {
      const key = after.join(' ');
      const v = ix.normalized.get(key) ?? ix.bag.get(bagKey(key));
      if (v) {
        const b = best(v);
        return { id: b.id, score: TIER_WEIGHT.bag * (0.5 + 0.5 * b.share), tier: 'bag', name: key };
      }
    }
    // Salt and counter-ion words ("trihexyphenidyl hydrochloride" -> trihexyphenidyl).
    const base = words.filter((w) => !SALT_WORDS.has(w));
    if (base.length > 0 && base.length < words.length) {
      const v = ix.normalized.get(base.join(' '));
      if (v) {
        const b = best(v);
        return {
          id: b.id,
          score: TIER_WEIGHT.bag * (0.5 + 0.5 * b.share),
          tier: 'bag',
          name: base.join(' '),
        };
      }
    }
    // Head words: drop leading modifiers ("severe acute hepatitis" -> "acute hepatitis" -> "hepatitis");
    // the score shrinks with the share of words dropped.
    for (let i = 1; i < words.length; i++) {
      const key = words.slice(i).join(' ');
      const v = ix.normalized.get(key);
      if (v && !best(v).id.includes('|')) {
        const b = best(v);
        const kept = (words.length - i) / words.length;
        return {
          id: b.id,
          score: TIER_WEIGHT.head * (0.5 + 0.5 * kept) * (0.5 + 0.5 * b.share),
          tier: 'head',
          name: key,
        };
      }
    }
    if (opts.similar === false || norm === '') return null;
    return this.similar(ix, norm, opts.maxCandidates ?? 200);
  }

  /** Cosine similarity of trigram counts against the names sharing the most trigrams. */
  private similar(ix: TypeIndex, norm: string, maxCandidates: number): LookupResult | null {
    const q = weigh(gramCounts(norm), ix);
    const qn = l2(q);
    // Shared-trigram counts in a typed array reused across lookups (a Map per lookup was the ranker's
    // main cost: common trigrams post to thousands of names); `touched` lists the entries to reset.
    const shared = (ix.scratch ??= new Int32Array(ix.names.length));
    const touched: number[] = [];
    for (const g of q.keys())
      for (const k of ix.postings.get(g) ?? []) if (shared[k]!++ === 0) touched.push(k);
    if (touched.length === 0) return null;
    touched.sort((a, b) => shared[b]! - shared[a]! || a - b);
    const cands = touched.length > maxCandidates ? touched.slice(0, maxCandidates) : touched;
    let top: { k: number; cos: number } | null = null;
    for (const k of cands) {
      const n = ix.names[k]!;
      let dot = 0;
      for (const [g, c] of q) dot += c * (n.grams.get(g) ?? 0);
      const cos = dot / (qn * n.norm || 1);
      if (!top || cos > top.cos) top = { k, cos };
    }
    for (const k of touched) shared[k] = 0;
    if (!top) return null;
    const name = ix.names[top.k]!.name;
    const b = best(ix.normalized.get(name)!);
    return { id: b.id, score: TIER_WEIGHT.similar * top.cos * (0.5 + 0.5 * b.share), tier: 'similar', name };
  }
}

/** A PubTator-like mention for building a dictionary: text, type, id and (CDR) composite parts. */
export interface AnnotatedMention {
  text: string;
  type: string;
  id: string;
  /** CDR composite mentions list the individual names in a further column: "Ocular toxicity|auditory toxicity". */
  parts?: string;
}

/** Builds dictionary entries from annotated mentions: every (type, name, id) with its count. */
export function entriesFromMentions(mentions: Iterable<AnnotatedMention>): DictionaryEntry[] {
  const counts = new Map<string, DictionaryEntry>();
  const add = (type: string, name: string, id: string): void => {
    const n = name.trim();
    if (n === '' || id === '') return;
    const key = `${type}\t${n}\t${id}`;
    const e = counts.get(key);
    if (e) e.count++;
    else counts.set(key, { type, name: n, id, count: 1 });
  };
  for (const m of mentions) {
    add(m.type, m.text, m.id);
    // The individual names of a composite mention map to the individual ids (same order).
    const ids = m.id.split('|');
    const parts = m.parts?.split('|') ?? [];
    if (ids.length > 1 && parts.length === ids.length) parts.forEach((p, i) => add(m.type, p, ids[i]!));
  }
  return [...counts.values()].sort(
    (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}
