// Document-level rule: one abstract uses a name for one thing, so the same string should be tagged
// the same way everywhere in it. A sentence-level tagger decides each occurrence from its sentence
// alone and disagrees with itself (a drug tagged in the title, missed in the results); a vote over the
// abstract's occurrences settles the type, and occurrences the model missed take it.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { shortFormOccurrences } from '../../text/abbreviationDefinitions.ts';
import {
  count,
  documentRuleStep,
  DocumentEditor,
  meanScore,
  tokenSpanOf,
  type EditCounts,
  type NerDocument,
  type TokenSpan,
} from './nerDocument.ts';

/** Config of {@link harmonizeMentions}; defaults are what measured best on the CDR dev abstracts. */
export const HarmonizeMentionsConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('one type per string across the abstract (document consistency)'),
    stepId: z
      .string()
      .min(1)
      .default('harmonize-mentions')
      .describe('step id in logs, metrics and dead letters'),
    /** Whether occurrences match case-insensitively ("Cocaine" in a title, "cocaine" in the text). */
    ignoreCase: z
      .boolean()
      .default(true)
      .describe('occurrences match case-insensitively ("Cocaine" in a title, "cocaine" in the text)'),
    /**
     * How the type is chosen among tagged occurrences: `majority` (count, ties by summed score),
     * `maxScore` (the most confident mention), `scoreSum` (summed scores).
     */
    vote: z
      .enum(['majority', 'maxScore', 'scoreSum'])
      .default('majority')
      .describe('how the type is chosen among tagged occurrences: majority, maxScore or scoreSum'),
    /**
     * Untagged occurrences: `ignore` them in the vote, or let them `vote` for no entity (the default since
     * the language-model-pretrained ner-bc5cdr, whose higher recall made `ignore` propagate its false
     * positives: docs/results/document-level.md).
     */
    untagged: z
      .enum(['ignore', 'vote'])
      .default('vote')
      .describe('untagged occurrences: ignore them in the vote, or let them vote for no entity'),
    /** Retype occurrences whose type lost the vote. */
    retype: z.boolean().default(true).describe('retype occurrences whose type lost the vote'),
    /** Tag untagged occurrences with the winning type. */
    propagate: z.boolean().default(true).describe('tag untagged occurrences with the winning type'),
    /** Shortest string (characters) that is propagated or untagged: short strings are ambiguous. */
    minLength: z
      .number()
      .int()
      .min(1)
      .default(4)
      .describe('shortest string, in characters, that is propagated or untagged'),
    /**
     * Also propagate onto occurrences holding only shorter mentions inside them ("malignant syndrome"
     * tagged within "neuroleptic malignant syndrome", which is tagged elsewhere in the abstract).
     */
    extend: z
      .boolean()
      .default(true)
      .describe('also propagate onto occurrences holding only shorter mentions inside them'),
    /** Propagate only strings the model tagged this confidently at least once (best mention score). */
    minScore: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('propagate only strings tagged at least this confidently once (best mention score)'),
  })
  .strict();
/** Effective config of {@link harmonizeMentions}. */
export type HarmonizeMentionsConfig = z.output<typeof HarmonizeMentionsConfig>;

interface Vote {
  n: number;
  sum: number;
  max: number;
}

function winner(votes: Map<string, Vote>, mode: HarmonizeMentionsConfig['vote']): string {
  const by = (v: Vote): number => (mode === 'majority' ? v.n : mode === 'maxScore' ? v.max : v.sum);
  return [...votes].sort((a, b) => by(b[1]) - by(a[1]) || b[1].sum - a[1].sum)[0]![0];
}

/** Applies the consistency rule to one document (pure): the new document and its edit counts. */
export function harmonizeMentionsIn(
  doc: NerDocument,
  config: Partial<z.input<typeof HarmonizeMentionsConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return harmonizeMentionsWith(doc, HarmonizeMentionsConfig.parse(config));
}

// The rule with a parsed config: the stream step parses once, not per document.
function harmonizeMentionsWith(
  doc: NerDocument,
  c: HarmonizeMentionsConfig,
): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const ed = new DocumentEditor(doc);
  // Distinct mention strings, longest first: a long mention is settled before the shorter ones it holds.
  const surfaces = new Map<string, string>();
  for (const s of doc.sentences)
    for (const e of s.entities) {
      const text = doc.text.slice(e.start, e.end);
      const key = c.ignoreCase ? text.toLowerCase() : text;
      if (!surfaces.has(key)) surfaces.set(key, text);
    }
  const ordered = [...surfaces.values()].sort((a, b) => b.length - a.length);
  for (const surface of ordered) {
    const tagged: TokenSpan[] = [];
    const free: TokenSpan[] = [];
    const holding: TokenSpan[] = [];
    const votes = new Map<string, Vote>();
    for (const o of shortFormOccurrences(doc.text, surface, { ignoreCase: c.ignoreCase })) {
      const span = tokenSpanOf(doc, o.start, o.end);
      if (!span) continue;
      const over = ed.overlapping(span);
      const on = ed.entityOn(span);
      if (on && over.length === 1) {
        tagged.push(span);
        const v = votes.get(on.type) ?? { n: 0, sum: 0, max: 0 };
        votes.set(on.type, { n: v.n + 1, sum: v.sum + on.score, max: Math.max(v.max, on.score) });
      } else if (over.length === 0) {
        free.push(span);
        if (c.untagged === 'vote') {
          const scores = doc.sentences[span.sentence]!.tagScores;
          const p = meanScore(scores, span.tokenStart, span.tokenEnd);
          const v = votes.get('O') ?? { n: 0, sum: 0, max: 0 };
          votes.set('O', { n: v.n + 1, sum: v.sum + p, max: Math.max(v.max, p) });
        }
      } else if (over.every((e) => e.tokenStart >= span.tokenStart && e.tokenEnd <= span.tokenEnd))
        holding.push(span);
      // Occurrences inside or across another mention are that mention's business.
    }
    if (tagged.length === 0) continue;
    const type = winner(votes, c.vote);
    if (type === 'O') {
      if (surface.length < c.minLength) continue;
      for (const span of tagged) if (ed.remove(span)) count(counts, 'untagged');
      continue;
    }
    const entities = tagged.map((s) => ed.entityOn(s)!).filter((e) => e.type === type);
    const score = entities.reduce((m, e) => Math.max(m, e.score), 0);
    if (c.retype)
      for (const span of tagged) {
        const e = ed.entityOn(span);
        if (e && e.type !== type && ed.set(span, type, e.score)) count(counts, 'retyped');
      }
    if (c.propagate && surface.length >= c.minLength && score >= c.minScore)
      for (const span of free)
        if (ed.overlapping(span).length === 0 && ed.set(span, type, score)) count(counts, 'propagated');
    if (c.extend && c.propagate && surface.length >= c.minLength && score >= c.minScore)
      for (const span of holding) {
        const inner = ed.overlapping(span);
        if (inner.every((e) => e.tokenStart >= span.tokenStart && e.tokenEnd <= span.tokenEnd))
          if (ed.set(span, type, score)) count(counts, 'extended');
      }
  }
  return { doc: ed.finish(), counts };
}

/** Stream step: the same string is tagged with one type (or none) across an abstract. */
export function harmonizeMentions(
  config: Partial<z.input<typeof HarmonizeMentionsConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const c = HarmonizeMentionsConfig.parse(config);
  return documentRuleStep(c.stepId, (doc) => harmonizeMentionsWith(doc, c));
}
