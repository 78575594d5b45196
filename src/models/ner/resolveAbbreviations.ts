// Document-level rule: an abbreviation defined in an abstract ("doxorubicin (DOX)") names the same
// thing wherever it occurs there, so each occurrence of the short form takes the type of its long form.
// The model tags short forms poorly on its own (a three-letter token carries little evidence), while
// the long form is usually tagged well: on the CDR dev abstracts 160 short-form mentions whose long form
// the model tagged were missed or mistyped (docs/results/document-level.md).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import {
  definitionsByShortForm,
  findAbbreviationDefinitions,
  shortFormOccurrences,
  type AbbreviationDefinition,
} from '../../text/abbreviationDefinitions.ts';
import type { Entity } from './tokenTagger.ts';
import {
  count,
  documentRuleStep,
  DocumentEditor,
  tokenSpanOf,
  type EditCounts,
  type NerDocument,
  type TokenSpan,
} from './nerDocument.ts';

/** Config of {@link resolveAbbreviations}; defaults are what measured best on the CDR dev abstracts. */
export const ResolveAbbreviationsConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe("short forms defined in the abstract take their long form's type"),
    stepId: z
      .string()
      .min(1)
      .default('resolve-abbreviations')
      .describe('step id in logs, metrics and dead letters'),
    /**
     * Which predicted entity types the long form: `exact` (an entity on exactly the long form), `suffix`
     * (an entity ending with the long form and starting inside it: the head of the phrase), `head` (an
     * entity ending with the long form wherever it starts: "anthracycline doxorubicin (DOX)"), `overlap`
     * (the longest entity overlapping it).
     */
    longForm: z
      .enum(['exact', 'suffix', 'head', 'overlap'])
      .default('head')
      .describe(
        'the entity whose type the long form takes: exact, suffix, head (any entity ending with it) or overlap',
      ),
    /**
     * When the long form is no entity: `keep` the model's short-form tags, `untag` every short-form
     * occurrence, or `majority`: tag every occurrence with the majority type if most occurrences are
     * tagged, else untag them all.
     */
    untypedLongForm: z
      .enum(['keep', 'untag', 'majority'])
      .default('untag')
      .describe('when the long form is no entity: keep the short-form tags, untag them, or majority type'),
    /** With `majority`: also tag the long form when most short-form occurrences are tagged. */
    tagLongForm: z
      .boolean()
      .default(false)
      .describe('with untypedLongForm=majority, also tag the long form when most short forms are tagged'),
    /** Without an entity at the definition, take the type of a same-named entity elsewhere in the abstract. */
    longFormElsewhere: z
      .boolean()
      .default(true)
      .describe('without an entity at the definition, take the type of a same-named entity elsewhere'),
    /** Longest short form considered, in characters. */
    maxShortFormLength: z
      .number()
      .int()
      .min(2)
      .max(20)
      .default(10)
      .describe('longest short form considered, in characters'),
    /** Shortest short form: 1 admits single capitals ("testosterone (T)"), which Schwartz & Hearst skip. */
    minShortFormLength: z
      .number()
      .int()
      .min(1)
      .max(2)
      .default(1)
      .describe('shortest short form, in characters (1 admits single capitals: "testosterone (T)")'),
    /** Also resolve the singular or plural of a short form ("NSAID" for "NSAIDs", "COCs" for "COC"). */
    numberVariants: z
      .boolean()
      .default(true)
      .describe('also resolve the singular or plural of a short form ("NSAID" for "NSAIDs")'),
  })
  .strict();
/** Effective config of {@link resolveAbbreviations}. */
export type ResolveAbbreviationsConfig = z.output<typeof ResolveAbbreviationsConfig>;

function longFormEntity(
  ed: DocumentEditor,
  doc: NerDocument,
  def: AbbreviationDefinition,
  mode: ResolveAbbreviationsConfig['longForm'],
): Entity | undefined {
  const { start, end } = def.longForm;
  const candidates: Entity[] = [];
  for (let si = 0; si < doc.sentences.length; si++) {
    const s = doc.sentences[si]!;
    if (s.end <= start || s.start >= end) continue;
    for (const e of ed.entities(si)) {
      if (mode === 'exact' ? e.start === start && e.end === end : false) return e;
      if (mode === 'suffix' && e.end === end && e.start >= start) candidates.push(e);
      if (mode === 'head' && e.end === end && e.start < end) candidates.push(e);
      if (mode === 'overlap' && e.start < end && start < e.end) candidates.push(e);
    }
  }
  return candidates.sort((a, b) => b.end - b.start - (a.end - a.start))[0];
}

/**
 * An entity elsewhere in the abstract whose text is the long form (case-insensitive): the title often
 * names the concept whole where the definition's sentence got it cut ("idiopathic" of "idiopathic
 * generalized epilepsies (IGE)").
 */
function sameNameEntity(
  ed: DocumentEditor,
  doc: NerDocument,
  def: AbbreviationDefinition,
): Entity | undefined {
  const name = def.longForm.text.toLowerCase();
  for (let si = 0; si < doc.sentences.length; si++)
    for (const e of ed.entities(si)) if (doc.text.slice(e.start, e.end).toLowerCase() === name) return e;
  return undefined;
}

/** Token spans of the short form's occurrences that no larger or crossing entity covers. */
function freeOccurrences(ed: DocumentEditor, doc: NerDocument, shortForm: string): TokenSpan[] {
  const out: TokenSpan[] = [];
  for (const o of shortFormOccurrences(doc.text, shortForm)) {
    const span = tokenSpanOf(doc, o.start, o.end);
    if (!span) continue;
    // An occurrence inside a longer mention ("DOX-induced cardiomyopathy") belongs to that mention.
    const other = ed
      .overlapping(span)
      .some((e) => e.tokenStart !== span.tokenStart || e.tokenEnd !== span.tokenEnd);
    if (!other) out.push(span);
  }
  return out;
}

/** Applies the abbreviation rule to one document (pure): the new document and its edit counts. */
export function resolveAbbreviationsIn(
  doc: NerDocument,
  config: Partial<z.input<typeof ResolveAbbreviationsConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return resolveAbbreviationsWith(doc, ResolveAbbreviationsConfig.parse(config));
}

// The rule with a parsed config: the stream step parses once, not per document.
function resolveAbbreviationsWith(
  doc: NerDocument,
  c: ResolveAbbreviationsConfig,
): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const defs = definitionsByShortForm(
    findAbbreviationDefinitions(doc.text, {
      maxShortFormLength: c.maxShortFormLength,
      minShortFormLength: c.minShortFormLength,
    }),
  );
  const ed = new DocumentEditor(doc);
  for (const def of defs.values()) {
    const sf = def.shortForm.text;
    const forms = [sf];
    if (c.numberVariants) forms.push(sf.endsWith('s') ? sf.slice(0, -1) : `${sf}s`);
    const occurrences = forms
      .filter((f) => f.length >= c.minShortFormLength && (f === sf || !defs.has(f)))
      .flatMap((f) => freeOccurrences(ed, doc, f));
    if (occurrences.length === 0) continue;
    const lf =
      longFormEntity(ed, doc, def, c.longForm) ??
      (c.longFormElsewhere ? sameNameEntity(ed, doc, def) : undefined);
    if (lf) {
      for (const span of occurrences) {
        const had = ed.entityOn(span);
        if (ed.set(span, lf.type, lf.score)) count(counts, had ? 'short-form-retyped' : 'short-form-tagged');
      }
      continue;
    }
    if (c.untypedLongForm === 'keep') continue;
    const tagged = occurrences.map((s) => ed.entityOn(s)).filter((e): e is Entity => e !== undefined);
    if (tagged.length === 0) continue;
    if (c.untypedLongForm === 'majority' && tagged.length * 2 > occurrences.length) {
      const votes = new Map<string, { n: number; score: number }>();
      for (const e of tagged) {
        const v = votes.get(e.type) ?? { n: 0, score: 0 };
        votes.set(e.type, { n: v.n + 1, score: v.score + e.score });
      }
      const [type, v] = [...votes].sort((a, b) => b[1].n - a[1].n || b[1].score - a[1].score)[0]!;
      const score = v.score / v.n;
      for (const span of occurrences) {
        const had = ed.entityOn(span);
        if (ed.set(span, type, score)) count(counts, had ? 'short-form-retyped' : 'short-form-tagged');
      }
      if (c.tagLongForm) {
        const span = tokenSpanOf(doc, def.longForm.start, def.longForm.end);
        // Only where the long form is free: it is no entity, so any overlap is a partial one.
        if (span && ed.overlapping(span).length === 0 && ed.set(span, type, score))
          count(counts, 'long-form-tagged');
      }
      continue;
    }
    for (const span of occurrences) if (ed.remove(span)) count(counts, 'short-form-untagged');
  }
  return { doc: ed.finish(), counts };
}

/** Stream step: short forms defined in the abstract take their long form's type wherever they occur. */
export function resolveAbbreviations(
  config: Partial<z.input<typeof ResolveAbbreviationsConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const c = ResolveAbbreviationsConfig.parse(config);
  return documentRuleStep(c.stepId, (doc) => resolveAbbreviationsWith(doc, c));
}
