// Document-level rule: drug code names ("CB 3717", "Ro15-1788", "ICRF-187") are a letter prefix and a
// number, which the tokenizer splits and the tagger often tags only in part (the prefix: "CB", "Ro15").
// A chemical mention that is such a prefix, followed by a space or hyphen and a number that is not a
// quantity ("CB 10 mg"), is extended over the number. Run before harmonizeMentions, which then carries
// the whole code name to the occurrences the model missed.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { count, documentRuleStep, DocumentEditor, type EditCounts, type NerDocument } from './nerDocument.ts';

/** Config of {@link joinCodeNames}; defaults are what measured best on the CDR dev abstracts. */
export const JoinCodeNamesConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('extend drug code-name prefixes over their number ("CB" of "CB 3717")'),
    stepId: z
      .string()
      .min(1)
      .default('join-code-names')
      .describe('step id in logs, metrics and dead letters'),
    /** Entity types whose mentions may be code-name prefixes. */
    types: z
      .array(z.string().min(1))
      .default(['Chemical'])
      .describe('entity types whose mentions may be code-name prefixes'),
    /**
     * Fewest digits of the number ("SM 21" has 2). Single digits name protein isoforms and receptor
     * subtypes far more often than drugs ("PARP-1", "D-2").
     */
    minDigits: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('fewest digits of the number (single digits mostly name isoforms: "PARP-1")'),
  })
  .strict();
/** Effective config of {@link joinCodeNames}. */
export type JoinCodeNamesConfig = z.output<typeof JoinCodeNamesConfig>;

// A code prefix: up to 6 letters with a capital, optionally followed by digits ("CB", "Ro15", "ICRF").
const PREFIX = /^(?=[A-Za-z]*[A-Z])[A-Za-z]{1,6}\d{0,3}$/u;
const NUMBER = /^\d+$/u;
// Words after a number that make it a quantity, not part of a name.
const UNITS = new Set(
  'mg g kg µg ug mcg ng ml mL l L µl ul mM µM uM nM pM mol mmol µmol nmol % h hr hrs min s sec days day d weeks week wk months years yr patients rats mice subjects cases times fold'.split(
    ' ',
  ),
);

/** Applies the code-name rule to one document (pure): the new document and its edit counts. */
export function joinCodeNamesIn(
  doc: NerDocument,
  config: Partial<z.input<typeof JoinCodeNamesConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return joinCodeNamesWith(doc, JoinCodeNamesConfig.parse(config));
}

// The rule with a parsed config: the stream step parses once, not per document.
function joinCodeNamesWith(
  doc: NerDocument,
  c: JoinCodeNamesConfig,
): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const types = new Set(c.types);
  const ed = new DocumentEditor(doc);
  doc.sentences.forEach((s, si) => {
    for (const e of s.entities) {
      if (!types.has(e.type) || e.tokenEnd - e.tokenStart !== 1) continue;
      if (!PREFIX.test(s.tokens[e.tokenStart]!)) continue;
      let k = e.tokenEnd;
      const gap = s.offsets[k]?.[0] ?? -1;
      // "CB 3717": one space, then the number.
      const spaced = gap === e.end + 1 && doc.text[e.end] === ' ';
      // "ICRF-187", "Ro15-1788": a glued hyphen, then the number.
      const hyphen = gap === e.end && s.tokens[k] === '-' && s.offsets[k + 1]?.[0] === s.offsets[k]![1];
      if (hyphen) k++;
      else if (!spaced) continue;
      const num = s.tokens[k];
      if (num === undefined || !NUMBER.test(num) || num.length < c.minDigits) continue;
      let end = k + 1;
      // "Ro 13-5057", "RP 67,580": a second number glued by a hyphen or comma belongs to the code.
      const glued = (i: number): boolean => s.offsets[i]![0] === s.offsets[i - 1]![1];
      if (
        (s.tokens[end] === '-' || s.tokens[end] === ',') &&
        NUMBER.test(s.tokens[end + 1] ?? '') &&
        glued(end) &&
        glued(end + 1)
      )
        end += 2;
      const next = s.tokens[end];
      if (next !== undefined && UNITS.has(next)) continue;
      if (next !== undefined && s.offsets[end]![0] === s.offsets[end - 1]![1] && /^[\p{L}\p{N}]/u.test(next))
        continue; // glued to more text: not a code boundary this rule understands
      const span = { sentence: si, tokenStart: e.tokenStart, tokenEnd: end };
      if (ed.overlapping(span).length === 1 && ed.set(span, e.type, e.score)) count(counts, 'joined');
    }
  });
  return { doc: ed.finish(), counts };
}

/** Stream step: a chemical mention that is a code-name prefix is extended over its number. */
export function joinCodeNames(
  config: Partial<z.input<typeof JoinCodeNamesConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const c = JoinCodeNamesConfig.parse(config);
  return documentRuleStep(c.stepId, (doc) => joinCodeNamesWith(doc, c));
}
