// Reads labeled corpora for the augmenters: CoNLL with an optional keyword column.
import { readFileSync } from 'node:fs';
import { isValidBio, repairBio } from '../text/bio.ts';
import { iterateConll } from '../text/conll.ts';
import type { SentenceToAugment } from './types.ts';

/** Options of {@link readLabeled}. */
export interface ReadLabeledOptions {
  /**
   * 1-based column holding keyword BIO tags; default: column 4 when the file has 4 or more
   * columns (the keywords/ files: token, NER tag, POS, keyword), none otherwise.
   */
  keywordColumn?: number;
  /**
   * Repair invalid BIO (an I-X continuing nothing becomes B-X, see repairBio) instead of failing
   * (default true: EBM-NLP has such sequences; the repair keeps the spans evaluators read).
   */
  repair?: boolean;
  /** Name used in sentence ids and errors (default: the path). */
  source?: string;
  /** Called for each sentence whose tags were repaired (id and first line). */
  onRepair?: (id: string, line: number) => void;
}

/** Parses CoNLL text into labeled sentences (ids `<source>:<index>`). */
export function parseLabeled(
  text: string,
  source: string,
  options: ReadLabeledOptions = {},
): SentenceToAugment[] {
  const out: SentenceToAugment[] = [];
  for (const s of iterateConll(text, { source })) {
    const cols = 2 + s.extra.length;
    const kc = options.keywordColumn ?? (cols >= 4 ? 4 : undefined);
    if (kc !== undefined && (kc < 3 || kc > cols))
      throw new Error(`conll: ${source}:${s.lines[0]}: keyword column ${kc} not in 3..${cols}`);
    let tags = s.tags;
    if (options.repair !== false && !isValidBio(tags)) {
      tags = repairBio(tags);
      options.onRepair?.(s.id, s.lines[0] ?? 0);
    }
    const ls: SentenceToAugment = { id: s.id, tokens: s.tokens, tags, line: s.lines[0] };
    if (kc !== undefined) ls.keywords = s.extra[kc - 3]!;
    out.push(ls);
  }
  return out;
}

/** Reads a CoNLL file into labeled sentences. */
export function readLabeled(path: string, options: ReadLabeledOptions = {}): SentenceToAugment[] {
  return parseLabeled(readFileSync(path, 'utf8'), options.source ?? path, options);
}

/**
 * Copies the keyword column of a 4-column keywords file (token, tag, POS, keyword BIO) onto
 * `base`, checking that both hold the same sentences in the same order.
 */
export function attachKeywords(base: SentenceToAugment[], keywordsPath: string, keywordColumn = 4): void {
  const kw = readLabeled(keywordsPath, { keywordColumn });
  if (kw.length !== base.length)
    throw new Error(`keywords: ${keywordsPath} has ${kw.length} sentences, the input has ${base.length}`);
  base.forEach((s, i) => {
    const k = kw[i]!;
    if (!k.keywords)
      throw new Error(`keywords: ${keywordsPath}:${k.line}: no keyword column ${keywordColumn}`);
    if (k.tokens.length !== s.tokens.length || k.tokens.some((t, j) => t !== s.tokens[j]))
      throw new Error(
        `keywords: ${keywordsPath}:${k.line}: sentence differs from the input sentence at line ${s.line}`,
      );
    s.keywords = k.keywords;
  });
}
