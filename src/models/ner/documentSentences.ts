// The exit of the document-level NER stage: a NerDocument fans out into its sentences again, keyed
// `pmid:index` as the sentence-level path keys them, so the records downstream consumers read keep
// their shape and keys whether or not the document stage ran.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { flatMapStep } from '../../engine/step.ts';
import type { DocumentSentence, NerDocument } from './nerDocument.ts';

/** Config of {@link documentSentences}; every field has a default. */
export const DocumentSentencesConfig = z
  .object({ stepId: z.string().min(1).default('document-sentences') })
  .strict();

/**
 * Emits each sentence of a document as its own envelope keyed `pmid:index`, each holding a share of
 * the document's ack token (the abstract is acked when every sentence record is). A document without
 * sentences settles at once.
 */
export function documentSentences(
  config: Partial<z.input<typeof DocumentSentencesConfig>> = {},
): OperatorFunction<Envelope<NerDocument>, Envelope<DocumentSentence>> {
  const c = DocumentSentencesConfig.parse(config);
  return flatMapStep<NerDocument, DocumentSentence>(
    c.stepId,
    (d) => d.sentences,
    (s) => `${s.pmid}:${s.index}`,
  );
}
