// A concept dictionary: entity names (per type) with the concept ids they were annotated with, looked
// up in tiers from strict to loose (exact, normalized, bag of words, head words) with a character
// trigram similarity ranker as the last resort. Each answer carries a score in [0, 1]; the caller
// turns answers below its threshold into "-1" (unsure), the CDR convention for "no concept".
import { ModelError } from '../errors.ts';
import {
  afterCause,
  bagKey,
  bagKeyOfWords,
  canonicalWords,
  foldCase,
  foldedWords,
  stemKeyOfWords,
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

/**
 * The similarity ranker's index over a type's distinct names: TF-IDF weighted trigram vectors stored
 * as postings (trigram id -> the names having it, with the trigram's weight in each name) in flat typed
 * arrays, built once when the dictionary loads. A query walks the postings of its own trigrams only and
 * gets, in one pass, every touched name's shared-trigram count and dot product.
 */
interface RankerIndex {
  /** Distinct normalized names (composites left out), by index. */
  names: string[];
  /** L2 norm of each name's weighted trigram vector. */
  norms: Float64Array;
  /** The best id of each name and that id's share of the name's votes (as {@link best} gives them). */
  bestIds: string[];
  bestShares: Float64Array;
  /** trigram -> its id (an index into idf and postStart). */
  gramIds: Map<string, number>;
  /** Inverse document frequency of each trigram over the names (rare trigrams weigh more). */
  idf: Float64Array;
  /** The idf of a trigram no name has (the query's own unmatched trigrams still count in its norm). */
  unseenIdf: number;
  /** Postings of trigram g: names postName[postStart[g] .. postStart[g + 1]) (ascending), weights postWeight. */
  postStart: Int32Array;
  postName: Int32Array;
  postWeight: Float64Array;
  /** Per-name scratch of a query, left zeroed between queries: shared-trigram counts and dot products. */
  shared: Int32Array;
  dot: Float64Array;
  /** The names a query touched, in first-touch order (scratch). */
  touched: Int32Array;
}

interface TypeIndex {
  exact: Map<string, Votes>;
  normalized: Map<string, Votes>;
  bag: Map<string, Votes>;
  /** Sorted canonical words (organ/process synonyms folded): the synonym tier. */
  canonical: Map<string, Votes>;
  /** Stemmed words, order-free: the stem tier ("necrotic" meets "necrosis"). */
  stem: Map<string, Votes>;
  /** The similarity ranker's index (built after every entry is added). */
  ranker?: RankerIndex;
}

/** Trigram counts of a normalized name, in first-occurrence order. */
function gramCounts(norm: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of trigrams(norm)) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
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
  // least recently used entry goes first), so the trigram ranker runs once per distinct string while
  // memory stays flat.
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
        }),
      );
    return ix;
  }

  private add(e: DictionaryEntry): void {
    const ix = this.index(e.type);
    const folded = foldCase(e.name);
    const words = foldedWords(folded);
    vote(ix.exact, folded, e.id, e.count);
    vote(ix.normalized, words.join(' '), e.id, e.count);
    vote(ix.bag, bagKeyOfWords(words), e.id, e.count);
    vote(ix.canonical, canonicalKey(words), e.id, e.count);
    if (!e.id.includes('|')) vote(ix.stem, stemKeyOfWords(words), e.id, e.count);
  }

  private indexNames(ix: TypeIndex): void {
    // Names annotated as composites ("ocular and auditory toxicity": two ids) answer only when matched
    // whole; as a loose candidate they would hand both ids to a mention that names one of them.
    const names: string[] = [];
    const bestIds: string[] = [];
    const shares: number[] = [];
    for (const [k, v] of ix.normalized) {
      const b = best(v);
      if (b.id.includes('|')) continue;
      names.push(k);
      bestIds.push(b.id);
      shares.push(b.share);
    }
    const counts = names.map(gramCounts);
    const gramIds = new Map<string, number>();
    const df: number[] = [];
    let total = 0;
    for (const c of counts)
      for (const g of c.keys()) {
        let id = gramIds.get(g);
        if (id === undefined) gramIds.set(g, (id = df.push(0) - 1));
        df[id]!++;
        total++;
      }
    const idf = new Float64Array(df.length);
    for (let g = 0; g < df.length; g++) idf[g] = Math.log((1 + names.length) / (1 + df[g]!)) + 1;
    // Postings laid out by trigram id; names are visited in index order, so each list is ascending.
    const postStart = new Int32Array(df.length + 1);
    for (let g = 0; g < df.length; g++) postStart[g + 1] = postStart[g]! + df[g]!;
    const fill = postStart.slice(0, df.length);
    const postName = new Int32Array(total);
    const postWeight = new Float64Array(total);
    const norms = new Float64Array(names.length);
    counts.forEach((c, k) => {
      let s = 0;
      for (const [g, n] of c) {
        const id = gramIds.get(g)!;
        const w = n * idf[id]!;
        s += w * w;
        const p = fill[id]!++;
        postName[p] = k;
        postWeight[p] = w;
      }
      norms[k] = Math.sqrt(s);
    });
    ix.ranker = {
      names,
      norms,
      bestIds,
      bestShares: Float64Array.from(shares),
      gramIds,
      idf,
      unseenIdf: Math.log(1 + names.length) + 1,
      postStart,
      postName,
      postWeight,
      shared: new Int32Array(names.length),
      dot: new Float64Array(names.length),
      touched: new Int32Array(names.length),
    };
  }

  /** Looks a name of `type` up, strict tiers first; null when nothing matches at all. */
  lookup(text: string, type: string, opts: LookupOptions = {}): LookupResult | null {
    const key = `${type}\t${opts.similar === false ? 0 : 1}\t${opts.maxCandidates ?? 200}\t${text}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      // Least recently used goes first: a hit moves to the back.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
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
    const words = foldedWords(folded);
    const norm = words.join(' ');
    // Strict to loose; each key is computed only when the tiers before it missed.
    const tiers: Array<[LookupTier, Map<string, Votes>, () => string]> = [
      ['exact', ix.exact, () => folded],
      ['normalized', ix.normalized, () => norm],
      ['bag', ix.bag, () => bagKeyOfWords(words)],
      ['bag', ix.canonical, () => canonicalKey(words)],
      ['stem', ix.stem, () => stemKeyOfWords(words)],
    ];
    for (const [tier, map, keyOf] of tiers) {
      const key = keyOf();
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

  /**
   * Cosine similarity of TF-IDF trigram vectors against the names sharing the most trigrams: the
   * `maxCandidates` names with the most shared trigrams (ties: the lower index) are the candidates, and
   * the best cosine among them answers (ties: the earlier candidate in that order).
   */
  private similar(ix: TypeIndex, norm: string, maxCandidates: number): LookupResult | null {
    const r = ix.ranker;
    if (!r) return null;
    const { shared, dot, touched, postStart, postName, postWeight } = r;
    // The query's weighted trigrams, summed in first-occurrence order (the dot products and the norm
    // add their terms in this order, so the floating-point results do not depend on the layout).
    let qss = 0;
    let nTouched = 0;
    let maxShared = 0;
    for (const [g, c] of gramCounts(norm)) {
      const id = r.gramIds.get(g);
      const w = c * (id === undefined ? r.unseenIdf : r.idf[id]!);
      qss += w * w;
      if (id === undefined) continue;
      for (let p = postStart[id]!, end = postStart[id + 1]!; p < end; p++) {
        const k = postName[p]!;
        const s = ++shared[k]!;
        if (s === 1) touched[nTouched++] = k;
        if (s > maxShared) maxShared = s;
        dot[k]! += w * postWeight[p]!;
      }
    }
    if (nTouched === 0) return null;
    const qn = Math.sqrt(qss);
    const limit = maxCandidates >= 1 ? Math.floor(maxCandidates) : 0;
    // The candidates: every name with more shared trigrams than `cut`, and the first `atCut` (by index)
    // of those with exactly `cut`; all touched names when they are no more than `limit`.
    let cut = 0;
    let atCut = 0;
    let wholeCut = true;
    if (nTouched > limit) {
      const hist = new Int32Array(maxShared + 1);
      for (let i = 0; i < nTouched; i++) hist[shared[touched[i]!]!]!++;
      let above = 0;
      cut = maxShared;
      while (cut > 1 && above + hist[cut]! < limit) above += hist[cut--]!;
      atCut = limit - above;
      wholeCut = atCut >= hist[cut]!;
    }
    let topK = -1;
    let topCos = 0;
    let topShared = 0;
    const consider = (k: number, s: number): void => {
      const cos = dot[k]! / (qn * r.norms[k]! || 1);
      if (topK < 0 || cos > topCos || (cos === topCos && (s > topShared || (s === topShared && k < topK)))) {
        topK = k;
        topCos = cos;
        topShared = s;
      }
    };
    if (wholeCut) {
      for (let i = 0; i < nTouched; i++) {
        const k = touched[i]!;
        if (shared[k]! >= cut) consider(k, shared[k]!);
      }
    } else {
      // Only some of the names at the cut are candidates: the lowest indexes, so walk them in index order.
      for (let i = 0; i < nTouched; i++) {
        const k = touched[i]!;
        if (shared[k]! > cut) consider(k, shared[k]!);
      }
      for (let k = 0; atCut > 0 && k < shared.length; k++)
        if (shared[k] === cut) {
          consider(k, cut);
          atCut--;
        }
    }
    for (let i = 0; i < nTouched; i++) {
      const k = touched[i]!;
      shared[k] = 0;
      dot[k] = 0;
    }
    if (topK < 0) return null;
    return {
      id: r.bestIds[topK]!,
      score: TIER_WEIGHT.similar * topCos * (0.5 + 0.5 * r.bestShares[topK]!),
      tier: 'similar',
      name: r.names[topK]!,
    };
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
