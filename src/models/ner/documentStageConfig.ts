// Config of the document-level NER stage, shared by the topologies that run it (ner-tagging, ingest):
// one block per rule, each with its own `enabled` switch and the defaults measured best on the CDR
// dev abstracts (docs/results/document-level.md).
import { z } from 'zod';
import { BalanceBracketsConfig } from './balanceBrackets.ts';
import { DropGeneNamesConfig } from './dropGeneNames.ts';
import { HarmonizeMentionsConfig } from './harmonizeMentions.ts';
import { JoinCodeNamesConfig } from './joinCodeNames.ts';
import { ResolveAbbreviationsConfig } from './resolveAbbreviations.ts';
import { SplitSlashesConfig } from './splitSlashes.ts';

/** Config of the document-level NER stage; every field has a default. */
export const DocumentStageConfig = z
  .object({
    /** Short forms defined in the abstract take their long form's type (resolveAbbreviations). */
    abbreviations: ResolveAbbreviationsConfig.prefault({}),
    /** Drug code names cut at the prefix ("CB" of "CB 3717") extended over the number (joinCodeNames). */
    codeNames: JoinCodeNamesConfig.prefault({}),
    /** Names joined by a slash ("Li/DVP") split into their parts (splitSlashes). */
    slashes: SplitSlashesConfig.prefault({}),
    /** One type per string across the abstract (harmonizeMentions). */
    consistency: HarmonizeMentionsConfig.prefault({}),
    /** Mentions with an unbalanced bracket (balanceBrackets). */
    brackets: BalanceBracketsConfig.prefault({}),
    /** Chemical mentions that are gene or protein names (dropGeneNames; bundle models/gene-names). */
    genes: DropGeneNamesConfig.prefault({}),
  })
  .strict();
/** Effective config of the document-level NER stage. */
export type DocumentStageConfig = z.output<typeof DocumentStageConfig>;
