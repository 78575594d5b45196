// The first step of the augment topology: a LabeledSentence record (the Avro shape) checked and turned
// into the augmenters' shape; a record the augmenters would choke on goes to the dead letters here.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../engine/envelope.ts';
import { mapStep } from '../engine/step.ts';
import { TopologyInputError } from '../engine/topology.ts';
import { firstBioError } from '../text/bio.ts';
import type { SentenceToAugment } from './types.ts';

/** The fields of a LabeledSentence record this step reads. */
export interface LabeledRecordLike {
  id: string;
  tokens: string[];
  tags: string[];
  keywordTags?: string[] | null;
  /** 1-based line in the file it was read from (in-memory runs of the CLI), kept for error messages. */
  line?: number;
}

/** Config of {@link validateSentence}; every field has a default. */
export const ValidateSentenceConfig = z
  .object({ stepId: z.string().min(1).default('validate-sentence') })
  .strict();

/** Checks a record (id, equal-length tokens and tags, strict BIO, keyword column length) and converts it. */
export function toLabeledSentence(r: LabeledRecordLike, step = 'validate-sentence'): SentenceToAugment {
  if (typeof r?.id !== 'string' || r.id === '') throw new TopologyInputError(step, 'sentence without an id');
  if (!Array.isArray(r.tokens) || !Array.isArray(r.tags) || r.tokens.length !== r.tags.length)
    throw new TopologyInputError(step, `${r.id}: tokens and tags must be arrays of equal length`);
  if (r.tokens.length === 0) throw new TopologyInputError(step, `${r.id}: empty sentence`);
  const bad = firstBioError(r.tags);
  if (bad >= 0)
    throw new TopologyInputError(step, `${r.id}: invalid BIO tag "${r.tags[bad]}" at token ${bad}`);
  if (r.keywordTags && r.keywordTags.length !== r.tokens.length)
    throw new TopologyInputError(step, `${r.id}: keywordTags length differs from tokens`);
  return {
    id: r.id,
    tokens: r.tokens,
    tags: r.tags,
    ...(r.keywordTags ? { keywords: r.keywordTags } : {}),
    ...(typeof r.line === 'number' ? { line: r.line } : {}),
  };
}

/** Validates each record (1:1); an invalid one is nacked with this step's id and goes to the dead letters. */
export function validateSentence(
  config: Partial<z.input<typeof ValidateSentenceConfig>> = {},
): OperatorFunction<Envelope<LabeledRecordLike>, Envelope<SentenceToAugment>> {
  const c = ValidateSentenceConfig.parse(config);
  return mapStep(c.stepId, (r) => toLabeledSentence(r, c.stepId));
}
