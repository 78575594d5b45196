// Document-level rule: a mention with an unbalanced bracket ("L-[3H", "HBV) infection") is a cut
// mention. The tokenizer makes every bracket its own token, so the tagger can stop at one; gold
// mentions almost never hold an unbalanced bracket (1 of 9,591 in the CDR dev abstracts, while all 23
// such predicted mentions there were wrong). By default the rule drops such a mention; extending it over
// the matching bracket and the rest of its word ("L-[3H]nicotine") is an option, which measured lower:
// the extended spans rarely matched the gold ones (docs/results/document-level.md).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import {
  count,
  documentRuleStep,
  DocumentEditor,
  tokenSpanOf,
  type EditCounts,
  type NerDocument,
} from './nerDocument.ts';

/** Config of {@link balanceBrackets}; defaults are what measured best on the CDR dev abstracts. */
export const BalanceBracketsConfig = z
  .object({
    enabled: z.boolean().default(true).describe('fix mentions holding an unbalanced bracket'),
    stepId: z
      .string()
      .min(1)
      .default('balance-brackets')
      .describe('step id in logs, metrics and dead letters'),
    /**
     * What to do with a mention holding an unbalanced bracket: `extend` it over the matching bracket
     * to the end (or start) of the word, `drop` it, or `extendOrDrop` (extend where possible).
     */
    unbalanced: z
      .enum(['extend', 'drop', 'extendOrDrop'])
      .default('drop')
      .describe('such a mention: extend it over the matching bracket, drop it, or extendOrDrop'),
    /** Longest extension in characters: a bracket further away closes something else. */
    maxExtension: z.number().int().min(1).default(40).describe('longest extension, in characters'),
  })
  .strict();
/** Effective config of {@link balanceBrackets}. */
export type BalanceBracketsConfig = z.output<typeof BalanceBracketsConfig>;

const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['(', ')'],
  ['[', ']'],
];

/** Net bracket balance of `s` per pair: > 0 more openers, < 0 more closers. */
function balances(s: string): number[] {
  return PAIRS.map(([o, c]) => {
    let n = 0;
    for (const ch of s) n += ch === o ? 1 : ch === c ? -1 : 0;
    return n;
  });
}

// Characters that end a word after a closing bracket ("(erection), and").
const WORD_END = /[\s,;:.!?]/u;

/**
 * The [start, end) that balances the mention [start, end) in `text` within [lo, hi), extended to the
 * word boundary; null when the brackets cannot be balanced that way.
 */
export function balancedExtent(
  text: string,
  start: number,
  end: number,
  lo: number,
  hi: number,
  maxExtension: number,
): [number, number] | null {
  let s = start;
  let e = end;
  const bal = balances(text.slice(s, e));
  for (let k = 0; k < PAIRS.length; k++) {
    const [open, close] = PAIRS[k]!;
    let need = bal[k]!;
    if (need > 0) {
      // Forward to the closer(s).
      let i = e;
      while (i < hi && i - end < maxExtension && need > 0) {
        if (text[i] === open) need++;
        else if (text[i] === close) need--;
        i++;
      }
      if (need !== 0) return null;
      while (i < hi && !WORD_END.test(text[i]!) && text[i] !== close) i++;
      e = i;
    } else if (need < 0) {
      // Back to the opener(s).
      let i = s - 1;
      while (i >= lo && start - i <= maxExtension && need < 0) {
        if (text[i] === close) need--;
        else if (text[i] === open) need++;
        i--;
      }
      if (need !== 0) return null;
      i++;
      while (i > lo && !/\s/u.test(text[i - 1]!) && text[i - 1] !== open) i--;
      s = i;
    }
  }
  // The extension may itself have brought in an unbalanced pair of the other kind.
  return balances(text.slice(s, e)).every((b) => b === 0) ? [s, e] : null;
}

/** Applies the bracket rule to one document (pure): the new document and its edit counts. */
export function balanceBracketsIn(
  doc: NerDocument,
  config: Partial<z.input<typeof BalanceBracketsConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return balanceBracketsWith(doc, BalanceBracketsConfig.parse(config));
}

// The rule with a parsed config: the stream step parses once, not per document.
function balanceBracketsWith(
  doc: NerDocument,
  c: BalanceBracketsConfig,
): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const ed = new DocumentEditor(doc);
  doc.sentences.forEach((s, si) => {
    for (const e of s.entities) {
      if (balances(doc.text.slice(e.start, e.end)).every((b) => b === 0)) continue;
      const span = { sentence: si, tokenStart: e.tokenStart, tokenEnd: e.tokenEnd };
      if (c.unbalanced !== 'drop') {
        const ext = balancedExtent(doc.text, e.start, e.end, s.start, s.end, c.maxExtension);
        const to = ext && tokenSpanOf(doc, ext[0], ext[1]);
        if (to && to.sentence === si) {
          if (ed.set(to, e.type, e.score)) count(counts, 'extended');
          continue;
        }
        if (c.unbalanced === 'extend') continue;
      }
      if (ed.remove(span)) count(counts, 'dropped');
    }
  });
  return { doc: ed.finish(), counts };
}

/** Stream step: mentions with an unbalanced bracket are extended to balance it, or dropped. */
export function balanceBrackets(
  config: Partial<z.input<typeof BalanceBracketsConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const c = BalanceBracketsConfig.parse(config);
  return documentRuleStep(c.stepId, (doc) => balanceBracketsWith(doc, c));
}
