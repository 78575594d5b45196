// The last NER step: one NerPrediction record per tagged sentence, keyed as it came (`pmid:index`).
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { Envelope } from '../../engine/envelope.ts';
import { mapStep } from '../../engine/step.ts';
import type { NerPrediction } from '../../io/avro/types.generated.ts';
import type { TaggedSentence } from './toTaggerInput.ts';

/**
 * The NerPrediction record of a tagged sentence whose offsets are document offsets. Entity text is
 * sliced from the document when `docText` knows it, else from the sentence (same text, no document held).
 */
export function predictionOf(
  s: TaggedSentence,
  modelId: string,
  docText: (pmid: string) => string | undefined = () => undefined,
): NerPrediction {
  const text = docText(s.pmid);
  return {
    id: `${s.pmid}:${s.index}`,
    pmid: s.pmid,
    sentenceIndex: s.index,
    sentenceStart: s.start,
    sentenceEnd: s.end,
    tokens: s.tokens,
    tokenStarts: s.offsets.map((o) => o[0]),
    tokenEnds: s.offsets.map((o) => o[1]),
    tags: s.tags,
    entities: s.entities.map((e) => ({
      start: e.start,
      end: e.end,
      text:
        text !== undefined ? text.slice(e.start, e.end) : s.text.slice(e.start - s.start, e.end - s.start),
      type: e.type,
      score: e.score,
      // Set by the normalization step of the document-level stage; the schema defaults otherwise.
      conceptId: (e as { conceptId?: string | null }).conceptId ?? null,
      conceptScore: (e as { conceptScore?: number }).conceptScore ?? 0,
    })),
    tokenScores: s.tagScores,
    modelId,
    createdAt: Date.now(),
  };
}

/** Config of {@link toPrediction}. */
export const ToPredictionConfig = z
  .object({
    stepId: z.string().min(1).default('to-prediction'),
    /** The model id written into each record (the NER bundle's folder name). */
    modelId: z.string().min(1),
  })
  .strict();

/** Maps tagged sentences (document offsets) to NerPrediction records (1:1, same key and ack token). */
export function toPrediction(
  config: z.input<typeof ToPredictionConfig>,
): OperatorFunction<Envelope<TaggedSentence>, Envelope<NerPrediction>> {
  const c = ToPredictionConfig.parse(config);
  return mapStep(c.stepId, (s) => predictionOf(s, c.modelId));
}
