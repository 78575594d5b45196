// Normalization of the mentions of one abstract: dictionary lookup per mention, abbreviations resolved
// through their definitions in the same abstract ("puromycin aminonucleoside (PAN)": PAN takes the long
// form's concept), coordinated mentions split into their parts, and one answer (the most confident) per
// normalized name in an abstract ("Seizures" and "seizure" alike), since an abstract uses a name for one
// thing. Answers below the threshold become "-1" (unsure).
import { join } from 'node:path';
import { z } from 'zod';
import { definitionsByShortForm, findAbbreviationDefinitions } from '../../text/abbreviationDefinitions.ts';
import { readJsonAs, readJsonValue } from '../bundleFiles.ts';
import { ConceptDictionary, UNKNOWN_CONCEPT, type LookupTier } from './conceptDictionary.ts';
import { coordinatedNames, foldCase, normalizeName } from './conceptNames.ts';

/** A mention to normalize: document offsets, text and entity type. */
export interface MentionInput {
  start: number;
  end: number;
  text: string;
  type: string;
}

/** The normalizer's answer for one mention. */
export interface NormalizedMention {
  /** Concept id ("-1" when unsure or unknown). */
  conceptId: string;
  conceptScore: number;
  /**
   * How it was found: a dictionary tier, 'abbreviation' (through the long form), 'composite' (the
   * parts of a coordinated mention, ids joined by "|"), or 'none'.
   */
  via: LookupTier | 'abbreviation' | 'composite' | 'none';
}

/** Config of a concept normalizer (the per-abstract normalization); every field has a default. */
export const ConceptNormalizerConfig = z
  .object({
    /** Answers scoring below this become "-1" (picked on dev by the training recipe; the bundle's value wins). */
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('answers scoring below this become "-1" (unsure); unset: the bundle\'s value, picked on dev'),
    /** Resolve short forms through their definitions in the abstract. */
    abbreviations: z
      .boolean()
      .default(true)
      .describe('resolve short forms through their definitions in the abstract'),
    /** One answer (the most confident) per normalized name and type in an abstract. */
    consistency: z
      .boolean()
      .default(true)
      .describe('one answer (the most confident) per normalized name and type in an abstract'),
    /** Use the character-trigram similarity ranker when no dictionary tier matches. */
    similar: z
      .boolean()
      .default(true)
      .describe('rank by character-trigram similarity when no dictionary tier matches'),
    /** Split coordinated mentions the dictionary lacks whole ("breast and ovarian cancer") into their parts. */
    composites: z
      .boolean()
      .default(true)
      .describe('split coordinated mentions the dictionary lacks ("breast and ovarian cancer") into parts'),
  })
  .strict();
export type ConceptNormalizerConfig = z.output<typeof ConceptNormalizerConfig>;

/** A loaded normalizer: its dictionary, threshold and id. */
export interface ConceptNormalizer {
  readonly dictionary: ConceptDictionary;
  readonly threshold: number;
  readonly modelId: string;
  /** Normalizes every mention of one abstract (`text`: title + " " + abstract, or '' when unknown). */
  normalize(text: string, mentions: readonly MentionInput[]): NormalizedMention[];
}

const STRICT: ReadonlySet<string> = new Set(['exact', 'normalized', 'bag']);

/** Normalizes the mentions of one abstract with a dictionary (pure; see the file comment). */
export function normalizeDocumentMentions(
  dict: ConceptDictionary,
  text: string,
  mentions: readonly MentionInput[],
  options: z.input<typeof ConceptNormalizerConfig> & { threshold: number },
): NormalizedMention[] {
  const o = ConceptNormalizerConfig.parse(options);
  const threshold = options.threshold;
  const defs =
    o.abbreviations && text !== '' ? definitionsByShortForm(findAbbreviationDefinitions(text)) : null;
  const raw: NormalizedMention[] = mentions.map((m) => {
    if (typeof m.text !== 'string' || m.text.trim() === '')
      return { conceptId: UNKNOWN_CONCEPT, conceptScore: 0, via: 'none' };
    const r = dict.lookup(m.text, m.type, { similar: o.similar });
    let out: NormalizedMention = r
      ? { conceptId: r.id, conceptScore: r.score, via: r.tier }
      : { conceptId: UNKNOWN_CONCEPT, conceptScore: 0, via: 'none' };
    // A plural short form ("NSAIDs") is defined as such or in the singular.
    const def = defs?.get(m.text.trim()) ?? defs?.get(m.text.trim().replace(/s$/u, ''));
    if (def && foldCase(def.longForm.text) !== foldCase(m.text)) {
      const l = dict.lookup(def.longForm.text, m.type, { similar: o.similar });
      // The abstract's own definition beats a dictionary abbreviation unless the long form only matched loosely.
      if (l && (STRICT.has(l.tier) || out.via !== 'exact' || l.score > out.conceptScore))
        out = { conceptId: l.id, conceptScore: l.score, via: 'abbreviation' };
    }
    if (o.composites && !STRICT.has(out.via) && out.via !== 'abbreviation') {
      const c = compositeAnswer(dict, m.text, m.type, threshold, o.similar);
      if (c && (c.parts > 1 || out.conceptScore < threshold)) out = c.answer;
    }
    return out;
  });
  if (o.consistency) {
    const bestOf = new Map<string, NormalizedMention>();
    // Names repeat within an abstract: each distinct text is normalized once.
    const names = new Map<string, string>();
    const keys = mentions.map((m) => {
      const t = m.text ?? '';
      let n = names.get(t);
      if (n === undefined) names.set(t, (n = normalizeName(t)));
      return `${m.type}\t${n}`;
    });
    keys.forEach((k, i) => {
      const b = bestOf.get(k);
      if (!b || raw[i]!.conceptScore > b.conceptScore) bestOf.set(k, raw[i]!);
    });
    keys.forEach((k, i) => {
      raw[i] = bestOf.get(k)!;
    });
  }
  return raw.map((r) => (r.conceptScore >= threshold ? { ...r } : { ...r, conceptId: UNKNOWN_CONCEPT }));
}

/**
 * A coordinated mention's parts looked up one by one; the parts scoring at least `threshold` give a
 * composite answer (ids in mention order, joined by "|", scored by the weakest part). Null when the
 * mention is not coordinated or no part is known.
 */
function compositeAnswer(
  dict: ConceptDictionary,
  text: string,
  type: string,
  threshold: number,
  similar: boolean,
): { answer: NormalizedMention; parts: number } | null {
  const names = coordinatedNames(text);
  if (!names) return null;
  const ids: string[] = [];
  let score = 1;
  for (const n of names) {
    const r = dict.lookup(n, type, { similar });
    if (!r || r.score < threshold || r.id === UNKNOWN_CONCEPT) continue;
    for (const id of r.id.split('|')) if (!ids.includes(id)) ids.push(id);
    score = Math.min(score, r.score);
  }
  if (ids.length === 0) return null;
  return { answer: { conceptId: ids.join('|'), conceptScore: score, via: 'composite' }, parts: ids.length };
}

/** The bundle description (model.json) of a normalization bundle. */
export const NormalizerBundleJson = z.object({
  task: z.literal('concept-normalization'),
  name: z.string().default('normalize'),
  files: z.object({ dictionary: z.string().default('dictionary.json') }).prefault({}),
  threshold: z.number().min(0).max(1).default(0.5),
});

/** Creates a normalizer from a dictionary and a threshold (tests, training). */
export function createNormalizer(
  dictionary: ConceptDictionary,
  threshold: number,
  modelId = 'normalize',
  options: z.input<typeof ConceptNormalizerConfig> = {},
): ConceptNormalizer {
  const o = ConceptNormalizerConfig.parse(options);
  const t = o.threshold ?? threshold;
  return {
    dictionary,
    threshold: t,
    modelId,
    normalize: (text, mentions) =>
      normalizeDocumentMentions(dictionary, text, mentions, { ...o, threshold: t }),
  };
}

/** Loads a normalization bundle folder (model.json + dictionary file); errors name the file. */
export function loadNormalizer(
  dir: string,
  options: z.input<typeof ConceptNormalizerConfig> = {},
): ConceptNormalizer {
  const mj = readJsonAs(
    dir,
    'model.json',
    'bundle description',
    NormalizerBundleJson,
    'not a concept-normalization bundle',
  );
  const json = readJsonValue(dir, mj.files.dictionary, 'concept dictionary');
  const dictFile = join(dir, mj.files.dictionary);
  const dict = ConceptDictionary.fromJson(json, dictFile);
  const id = dir.replace(/\/+$/, '').split('/').pop() ?? mj.name;
  return createNormalizer(dict, mj.threshold, id, options);
}
