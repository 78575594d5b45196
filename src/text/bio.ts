// BIO / IOBES / span utilities. Spans are token index ranges [start, end) with a type; every
// augmenter and evaluator goes through these so "what is an entity" has one definition.

/** An entity as a token range [start, end) with its type (e.g. `Disease`) and, from a model, a score. */
export interface Span {
  type: string;
  start: number;
  end: number;
  score?: number;
}

/** An entity as a character range [start, end) into some text. */
export interface CharSpan {
  type: string;
  start: number;
  end: number;
}

/** Splits a tag into its prefix (`B`, `I`, `E`, `S` or `O`) and type (`''` for `O`). */
export function parseTag(tag: string): { prefix: string; type: string } {
  if (tag === 'O') return { prefix: 'O', type: '' };
  const dash = tag.indexOf('-');
  if (dash !== 1 || !'BIES'.includes(tag[0]!) || tag.length < 3)
    throw new Error(`bio: invalid tag ${JSON.stringify(tag)}: valid tags are O, B-<type>, I-<type> (E-/S-)`);
  return { prefix: tag[0]!, type: tag.slice(2) };
}

/** The entity type of a tag, or `null` for `O`. */
export function tagType(tag: string): string | null {
  return tag === 'O' ? null : parseTag(tag).type;
}

/**
 * Index of the first tag that breaks strict BIO (an `I-X` not preceded by `B-X` or `I-X`, or a
 * tag that is not O/B-X/I-X), or -1 when the sequence is valid.
 */
export function firstBioError(tags: readonly string[]): number {
  let prev = '';
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i]!;
    if (t === 'O') {
      prev = '';
      continue;
    }
    if (t.length < 3 || t[1] !== '-') return i;
    const p = t[0];
    const type = t.slice(2);
    if (p === 'B') prev = type;
    else if (p === 'I') {
      if (prev !== type) return i;
    } else return i;
  }
  return -1;
}

/** True when `tags` is strict BIO (every `I-X` continues a `B-X`/`I-X`). */
export function isValidBio(tags: readonly string[]): boolean {
  return firstBioError(tags) === -1;
}

/**
 * Repairs a BIO sequence: an `I-X` that does not continue an entity of type X becomes `B-X`
 * (the conlleval/seqeval reading, so repair never changes which spans an evaluator sees).
 * Throws on tags that are not O/B-X/I-X.
 */
export function repairBio(tags: readonly string[]): string[] {
  const out: string[] = new Array<string>(tags.length);
  let prev = '';
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i]!;
    const { prefix, type } = parseTag(t);
    if (prefix === 'O') {
      out[i] = 'O';
      prev = '';
    } else if (prefix === 'B') {
      out[i] = t;
      prev = type;
    } else if (prefix === 'I') {
      out[i] = prev === type ? t : `B-${type}`;
      prev = type;
    } else throw new Error(`bio: IOBES tag ${JSON.stringify(t)} at ${i} in a BIO sequence`);
  }
  return out;
}

/** Entity spans of a BIO sequence; an `I-X` that starts nothing opens a span (as repairBio reads it). */
export function bioToSpans(tags: readonly string[]): Span[] {
  const spans: Span[] = [];
  let cur: Span | null = null;
  for (let i = 0; i < tags.length; i++) {
    const { prefix, type } = parseTag(tags[i]!);
    if (prefix === 'O') {
      if (cur) spans.push(cur);
      cur = null;
    } else if (prefix === 'I' && cur && cur.type === type) {
      cur.end = i + 1;
    } else if (prefix === 'B' || prefix === 'I') {
      if (cur) spans.push(cur);
      cur = { type, start: i, end: i + 1 };
    } else throw new Error(`bio: IOBES tag ${JSON.stringify(tags[i])} at ${i} in a BIO sequence`);
  }
  if (cur) spans.push(cur);
  return spans;
}

/** What `spansToBio` does with overlapping spans. */
export interface SpansToBioOptions {
  /**
   * `throw` (default): overlapping spans are an error, as in gold data where an overlap is a bug.
   * `best`: keep the highest-scoring spans that do not overlap an already kept one (ties: the
   * earlier start), for decoders whose candidates may nest (the span head).
   */
  overlap?: 'throw' | 'best';
}

/** BIO tags of length `length` for spans; throws on out-of-range spans and, by default, on overlap. */
export function spansToBio(spans: readonly Span[], length: number, opts: SpansToBioOptions = {}): string[] {
  const best = opts.overlap === 'best';
  const tags = new Array<string>(length).fill('O');
  const ordered = best
    ? [...spans].sort((a, b) => (b.score ?? 0) - (a.score ?? 0) || a.start - b.start)
    : spans;
  for (const s of ordered) {
    if (!(s.start >= 0 && s.end <= length && s.start < s.end) || !Number.isInteger(s.start + s.end))
      throw new Error(`bio: span ${JSON.stringify(s)} out of range for ${length} tokens`);
    if (s.type === '' || /\s/.test(s.type))
      throw new Error(`bio: span type ${JSON.stringify(s.type)} invalid`);
    let taken = -1;
    for (let i = s.start; i < s.end && taken < 0; i++) if (tags[i] !== 'O') taken = i;
    if (taken >= 0) {
      if (best) continue;
      throw new Error(`bio: span ${JSON.stringify(s)} overlaps another at token ${taken}`);
    }
    for (let i = s.start; i < s.end; i++) tags[i] = (i === s.start ? 'B-' : 'I-') + s.type;
  }
  return tags;
}

/** Converts BIO to IOBES (single-token entities S-X, last token of longer ones E-X). */
export function bioToIobes(tags: readonly string[]): string[] {
  const out = new Array<string>(tags.length).fill('O');
  for (const s of bioToSpans(tags)) {
    if (s.end - s.start === 1) out[s.start] = `S-${s.type}`;
    else {
      out[s.start] = `B-${s.type}`;
      for (let i = s.start + 1; i < s.end - 1; i++) out[i] = `I-${s.type}`;
      out[s.end - 1] = `E-${s.type}`;
    }
  }
  return out;
}

/**
 * Converts IOBES to BIO. Lenient like bioToSpans: an entity that is never closed by E-X ends at
 * the next tag that cannot continue it.
 */
export function iobesToBio(tags: readonly string[]): string[] {
  const out = new Array<string>(tags.length).fill('O');
  let open: string | null = null;
  for (let i = 0; i < tags.length; i++) {
    const { prefix, type } = parseTag(tags[i]!);
    if (prefix === 'O') {
      open = null;
    } else if (prefix === 'S') {
      out[i] = `B-${type}`;
      open = null;
    } else if (prefix === 'B') {
      out[i] = `B-${type}`;
      open = type;
    } else {
      out[i] = open === type ? `I-${type}` : `B-${type}`;
      open = prefix === 'E' ? null : type;
    }
  }
  return out;
}

/**
 * Character offsets of token spans given each token's [start, end) offsets in the text; the
 * entity runs from its first token's start to its last token's end.
 */
export function spansToCharSpans(
  spans: readonly Span[],
  tokenOffsets: readonly { start: number; end: number }[],
): CharSpan[] {
  return spans.map((s) => {
    const first = tokenOffsets[s.start];
    const last = tokenOffsets[s.end - 1];
    if (!first || !last)
      throw new Error(`bio: span ${JSON.stringify(s)} beyond ${tokenOffsets.length} token offsets`);
    return { type: s.type, start: first.start, end: last.end };
  });
}

/** Entity types present in a set of tag sequences, sorted. */
export function entityTypes(tagSeqs: Iterable<readonly string[]>): string[] {
  const types = new Set<string>();
  for (const tags of tagSeqs) for (const t of tags) if (t !== 'O') types.add(parseTag(t).type);
  return [...types].sort();
}
