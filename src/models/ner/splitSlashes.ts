// Document-level rule: names joined by a slash with no space ("Li/DVP", "lopinavir/ritonavir",
// "carbidopa/levodopa") are two mentions in the CDR guidelines (29 such gold pairs in the training
// abstracts against 5 gold mentions holding a slash), while the tagger, which sees "/" as one more
// token inside a name, often tags the whole as one mention. A mention of the configured types whose
// slash tokens touch both neighbours is split at them into its parts, each part keeping the mention's
// type and score, when every part is a name (at least two letters). Run before harmonizeMentions, so
// the parts vote with their other occurrences.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { count, documentRuleStep, DocumentEditor, type EditCounts, type NerDocument } from './nerDocument.ts';

/** Config of {@link splitSlashes}; defaults are what measured best on the CDR dev abstracts. */
export const SplitSlashesConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('split mentions joined by a slash ("Li/DVP") into their parts'),
    stepId: z.string().min(1).default('split-slashes').describe('step id in logs, metrics and dead letters'),
    /** Entity types whose slash-joined mentions are split. */
    types: z
      .array(z.string().min(1))
      .default(['Chemical'])
      .describe('entity types whose slash-joined mentions are split'),
  })
  .strict();
/** Effective config of {@link splitSlashes}. */
export type SplitSlashesConfig = z.output<typeof SplitSlashesConfig>;

const NAME = /\p{L}.*\p{L}/su;

/** Applies the slash rule to one document (pure): the new document and its edit counts. */
export function splitSlashesIn(
  doc: NerDocument,
  config: Partial<z.input<typeof SplitSlashesConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return splitSlashesWith(doc, SplitSlashesConfig.parse(config));
}

// The rule with a parsed config: the stream step parses once, not per document.
function splitSlashesWith(doc: NerDocument, c: SplitSlashesConfig): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const types = new Set(c.types);
  const ed = new DocumentEditor(doc);
  doc.sentences.forEach((s, si) => {
    for (const e of s.entities) {
      if (!types.has(e.type)) continue;
      // Token ranges between the slashes that touch both neighbours.
      const parts: [number, number][] = [];
      let from = e.tokenStart;
      for (let k = e.tokenStart + 1; k < e.tokenEnd - 1; k++) {
        if (s.tokens[k] !== '/') continue;
        if (s.offsets[k - 1]![1] !== s.offsets[k]![0] || s.offsets[k]![1] !== s.offsets[k + 1]![0]) continue;
        parts.push([from, k]);
        from = k + 1;
      }
      if (parts.length === 0) continue;
      parts.push([from, e.tokenEnd]);
      const names = parts.every(
        ([a, b]) => a < b && NAME.test(doc.text.slice(s.offsets[a]![0], s.offsets[b - 1]![1])),
      );
      if (!names) continue;
      // set() removes what a part overlaps: the first part takes the joined mention away
      for (const [a, b] of parts) ed.set({ sentence: si, tokenStart: a, tokenEnd: b }, e.type, e.score);
      count(counts, 'split');
    }
  });
  return { doc: ed.finish(), counts };
}

/** Stream step: mentions joined by a slash with no space are split into their parts. */
export function splitSlashes(
  config: Partial<z.input<typeof SplitSlashesConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const c = SplitSlashesConfig.parse(config);
  return documentRuleStep(c.stepId, (doc) => splitSlashesWith(doc, c));
}
