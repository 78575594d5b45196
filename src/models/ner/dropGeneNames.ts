// Document-level rule: the CDR guidelines annotate chemicals, not genes and proteins, yet the tagger,
// which has seen neither, tags many protein names as Chemical ("Nrf2", "antithrombin", "glucagon",
// "hepatitis B surface antigen"). A name lexicon bundle (models/gene-names, made by `npm run train --
// gene-names`) holds, per entity type, the gene and protein names of another corpus (BC2GM) that the
// tagger's training abstracts never annotate with that type; a mention of a configured type whose folded
// text (case, spaces) is in that type's list is dropped. Measured on the CDR dev abstracts in
// docs/results/document-level.md. The lexicon is loaded once per stream and never grows.
import { defer, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { asStep } from '../../engine/graph.ts';
import { ModelError } from '../errors.ts';
import { readJsonAs } from '../bundleFiles.ts';
import { count, documentRuleStep, DocumentEditor, type EditCounts, type NerDocument } from './nerDocument.ts';

/** How names are folded before lookup: NFKC, lower case, whitespace removed ("Apolipoprotein A - I" = "apolipoprotein A-I"). */
export function foldName(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/gu, '');
}

/** A set of folded names per entity type. */
export interface NameLexicon {
  /** The bundle folder's name (or what the builder called it). */
  readonly id: string;
  /** Types that have a list. */
  readonly types: readonly string[];
  /** Whether `text`, folded, is in the list of `type`. */
  has(type: string, text: string): boolean;
}

/** Builds a lexicon from names per type (folded here; names shorter than `minLength` once folded are left out). */
export function nameLexicon(
  byType: Record<string, Iterable<string>>,
  opts: { id?: string; minLength?: number } = {},
): NameLexicon {
  const min = opts.minLength ?? 1;
  const sets = new Map<string, Set<string>>();
  for (const [type, names] of Object.entries(byType)) {
    const set = new Set<string>();
    for (const n of names) {
      const f = foldName(n);
      if (f.length >= min) set.add(f);
    }
    sets.set(type, set);
  }
  return {
    id: opts.id ?? 'names',
    types: [...sets.keys()],
    has: (type, text) => sets.get(type)?.has(foldName(text)) ?? false,
  };
}

/** model.json of a name lexicon bundle. */
export const NameLexiconBundleJson = z
  .object({
    task: z.literal('name-lexicon'),
    name: z.string(),
    files: z.object({ lexicon: z.string().min(1) }),
  })
  .passthrough();

/** The lexicon file: folded names per type (see {@link foldName}). */
export const NameLexiconJson = z
  .object({
    folding: z.literal('nfkc-lower-nospace'),
    minLength: z.number().int().min(1),
    names: z.record(z.string(), z.array(z.string())),
  })
  .strict();
export type NameLexiconJson = z.infer<typeof NameLexiconJson>;

/** Loads a name lexicon bundle (model.json + the lexicon file); a broken bundle throws a bundle error naming the file. */
export function loadNameLexicon(dir: string): NameLexicon {
  const mj = readJsonAs(
    dir,
    'model.json',
    'bundle description',
    NameLexiconBundleJson,
    'not a name-lexicon bundle',
  );
  const lex = readJsonAs(dir, mj.files.lexicon, 'name lexicon', NameLexiconJson, 'not a name lexicon');
  const id = dir.replace(/\/+$/, '').split('/').pop() ?? mj.name;
  return nameLexicon(lex.names, { id, minLength: lex.minLength });
}

/** Config of {@link dropGeneNames}; defaults are what measured best on the CDR dev abstracts. */
export const DropGeneNamesConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'drop mentions whose text is a gene or protein name the training abstracts never gave that type',
      ),
    stepId: z
      .string()
      .min(1)
      .default('drop-gene-names')
      .describe('step id in logs, metrics and dead letters'),
    /** Name lexicon bundle folder (models/gene-names). */
    model: z.string().optional().describe('name lexicon bundle folder; unset: models/gene-names'),
    /** Entity types whose mentions are checked. */
    types: z
      .array(z.string().min(1))
      .default(['Chemical'])
      .describe('entity types whose mentions are checked against the lexicon'),
  })
  .strict();
/** Effective config of {@link dropGeneNames}. */
export type DropGeneNamesConfig = z.output<typeof DropGeneNamesConfig>;

/** Applies the rule to one document (pure): the new document and its edit counts. */
export function dropGeneNamesIn(
  doc: NerDocument,
  lexicon: NameLexicon,
  config: Partial<z.input<typeof DropGeneNamesConfig>> = {},
): { doc: NerDocument; counts: EditCounts } {
  return dropWith(doc, lexicon, DropGeneNamesConfig.parse(config));
}

function dropWith(
  doc: NerDocument,
  lexicon: NameLexicon,
  c: DropGeneNamesConfig,
): { doc: NerDocument; counts: EditCounts } {
  const counts: EditCounts = {};
  if (!c.enabled) return { doc, counts };
  const types = new Set(c.types);
  const ed = new DocumentEditor(doc);
  doc.sentences.forEach((s, si) => {
    for (const e of s.entities) {
      if (!types.has(e.type) || !lexicon.has(e.type, doc.text.slice(e.start, e.end))) continue;
      ed.remove({ sentence: si, tokenStart: e.tokenStart, tokenEnd: e.tokenEnd });
      count(counts, 'dropped');
    }
  });
  return { doc: ed.finish(), counts };
}

/**
 * Stream step: mentions of the configured types that are gene or protein names are dropped. The bundle is
 * loaded when the stream starts (a broken bundle errors the stream, as every abstract would fail alike);
 * `lexicon` injects one instead.
 */
export function dropGeneNames(
  config: Partial<z.input<typeof DropGeneNamesConfig>> & { lexicon?: NameLexicon },
): OperatorFunction<Envelope<NerDocument>, Envelope<NerDocument>> {
  const { lexicon: injected, ...rest } = config;
  const c = DropGeneNamesConfig.parse(rest);
  if (c.enabled && !injected && !c.model)
    throw new ModelError(
      'config',
      `${c.stepId}: needs "model" (a name lexicon bundle folder) or an injected lexicon`,
    );
  if (!c.enabled) return documentRuleStep(c.stepId, (doc) => ({ doc, counts: {} }));
  return asStep(c.stepId, (source) =>
    defer(() => {
      const lexicon = injected ?? loadNameLexicon(c.model!);
      return source.pipe(documentRuleStep(c.stepId, (doc) => dropWith(doc, lexicon, c)));
    }),
  );
}
