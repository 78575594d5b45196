// The NER steps every abstract-reading topology shares (ner-tagging, ner-relations, ingest), in the order
// data flows: validate the article -> per sentence: split, tokenize, tag (batched NER), re-join hyphen
// parts -> back into one document per abstract -> document-level rules (abbreviations, drug-code names,
// mention consistency, brackets, gene names) -> MeSH normalization. Out comes one NerDocument per abstract, with
// entity offsets into title + " " + abstract and concept ids.
import { pipe } from 'rxjs';
import { z } from 'zod';
import type { PubmedArticle } from '../io/avro/types.generated.ts';
import { splitSentences } from '../text/splitSentences.ts';
import { styleFor } from '../text/tokenize.ts';
import { tokenizeWords } from '../text/tokenizeWords.ts';
import { validateArticle } from '../text/validateArticle.ts';
import { backend, batching, defaultModel, ModelStepConfig } from './modelStepConfig.ts';
import { balanceBrackets } from './ner/balanceBrackets.ts';
import { bridgeHyphens } from './ner/bridgeHyphens.ts';
import { dropGeneNames } from './ner/dropGeneNames.ts';
import { DocumentStageConfig } from './ner/documentStageConfig.ts';
import { harmonizeMentions } from './ner/harmonizeMentions.ts';
import { joinCodeNames } from './ner/joinCodeNames.ts';
import { regroupSentences } from './ner/regroupSentences.ts';
import { resolveAbbreviations } from './ner/resolveAbbreviations.ts';
import { splitSlashes } from './ner/splitSlashes.ts';
import { tagEntities } from './ner/tagEntities.ts';
import { toTaggerInput } from './ner/toTaggerInput.ts';
import { NormalizeConceptsConfig, normalizeConcepts } from './normalize/normalizeConcepts.ts';

/** Config of {@link tagAbstracts}; every field has a default. Topologies spread its shape into theirs. */
export const TagAbstractsConfig = z
  .object({
    /** The NER model step (bundle default models/ner-bc5cdr). */
    ner: ModelStepConfig.prefault({}),
    /** Dead-letter abstracts with an empty abstract text (title-only records), as the design asks. */
    requireAbstract: z
      .boolean()
      .default(true)
      .describe('dead-letter abstracts with an empty abstract text (title-only records)'),
    /**
     * Tokenization of raw text fed to the model (a style or corpus name of src/text/tokenize.ts).
     * `split` (every punctuation mark a token) measured best on raw CDR abstracts for the BC5CDR
     * model: see docs/results/document-level.md.
     */
    tokenizerStyle: z
      .string()
      .default('split')
      .describe('tokenization of the text fed to the model (a style or corpus name of src/text/tokenize.ts)'),
    /** Re-join entity parts split at a glued hyphen (src/models/ner/bridgeHyphens.ts). */
    bridgeHyphens: z.boolean().default(true).describe('re-join entity parts split at a glued hyphen'),
    /**
     * The document-level stage over each whole abstract, one block per rule with an `enabled` switch
     * (src/models/ner/documentStageConfig.ts; figures in docs/results/document-level.md).
     */
    document: DocumentStageConfig.prefault({}),
    /** MeSH normalization of the entities (src/models/normalize; bundle default models/normalize-cdr). */
    normalize: NormalizeConceptsConfig.prefault({}),
  })
  .strict();
export type TagAbstractsConfig = z.output<typeof TagAbstractsConfig>;

/** The NER bundle folder the config names, or the shipped default. */
export function nerModelOf(c: Pick<TagAbstractsConfig, 'ner'>): string {
  return c.ner.model ?? defaultModel('ner-bc5cdr');
}

/** PubmedArticle envelopes in, one normalized NerDocument envelope per abstract out (steps above). */
export function tagAbstracts(c: TagAbstractsConfig) {
  return pipe(
    validateArticle<PubmedArticle>({ requireAbstract: c.requireAbstract }),
    // Each abstract's sentences are tagged in sentence-level batches, then regrouped into one document.
    regroupSentences(
      pipe(
        splitSentences(),
        tokenizeWords({ style: styleFor(c.tokenizerStyle), offsets: 'document' }),
        toTaggerInput(),
        tagEntities({
          stepId: 'ner',
          model: nerModelOf(c),
          taggerOptions: { stepId: 'ner', backend: backend(c.ner) },
          ...batching(c.ner),
        }),
        bridgeHyphens({ enabled: c.bridgeHyphens }),
      ),
    ),
    resolveAbbreviations(c.document.abbreviations),
    joinCodeNames(c.document.codeNames),
    splitSlashes(c.document.slashes),
    harmonizeMentions(c.document.consistency),
    balanceBrackets(c.document.brackets),
    dropGeneNames({ ...c.document.genes, model: c.document.genes.model ?? defaultModel('gene-names') }),
    normalizeConcepts({ ...c.normalize, model: c.normalize.model ?? defaultModel('normalize-cdr') }),
  );
}
