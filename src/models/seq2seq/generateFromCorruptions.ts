// BioAug's generation operator: one sequence per corrupted copy (src/augment/bioaug/corruptSentences.ts),
// de-linearized and validated into an AugmentedSentence record. The generator is loaded on the first
// batch (or injected) and disposed when the stream finalizes, like every model operator.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { CorruptConfig } from '../../augment/bioaug/corrupt.ts';
import type { CorruptedSentence } from '../../augment/bioaug/corruptSentences.ts';
import { delinearize, type ExpectedEntity } from '../../augment/bioaug/delinearize.ts';
import { LabelVocabulary, labelToken } from '../../augment/bioaug/labels.ts';
import { withQuality } from '../../augment/quality.ts';
import type { Envelope } from '../../engine/envelope.ts';
import { flatMapStep } from '../../engine/step.ts';
import type { AugmentedSentence } from '../../io/avro/types.generated.ts';
import { retokenizeLabeled } from '../../text/retokenize.ts';
import { styleFor, type TokenizerStyle } from '../../text/tokenize.ts';
import { batchModel } from '../batchModel.ts';
import { backend, batching, defaultModel, ModelStepConfig, modelIdOf } from '../modelStepConfig.ts';
import { withModel } from '../withModel.ts';
import { createGenerator, type Generated, type Generator } from './generator.ts';

/** Config of {@link generateFromCorruptions}; every field has a default. */
export const GenerateFromCorruptionsConfig = z
  .object({
    stepId: z.string().min(1).default('generate').describe('step id in logs, metrics and dead letters'),
    generator: ModelStepConfig.prefault({ maxBatch: 16 }),
    /** The run's seed, written into each record (each copy's sampling seed comes with the copy). */
    seed: z
      .number()
      .int()
      .default(1)
      .describe("the run's seed, written into each record (each copy has its own sampling seed)"),
    /** beam-sample: beam search over top-k samples (BioAug's decoding); see generator.ts. */
    strategy: z
      .enum(['sample', 'beam', 'beam-sample', 'greedy'])
      .default('sample')
      .describe("decoding: sample, beam, beam-sample (beam search over top-k samples, BioAug's) or greedy"),
    topK: z.number().int().min(0).default(10).describe('sampling: keep the k most likely tokens (0: all)'),
    topP: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe('sampling: keep the smallest set of tokens whose probability reaches p (1: all)'),
    temperature: z
      .number()
      .gt(0)
      .default(1)
      .describe('sampling temperature (below 1 sharper, above 1 flatter)'),
    numBeams: z.number().int().min(1).default(4).describe('beams of beam and beam-sample decoding'),
    /**
     * Sequences generated per corrupted copy (independent samples, or the best beams up to numBeams);
     * the one with the highest mean token log-likelihood is kept, so a copy is still one record.
     */
    samples: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('sequences generated per corrupted copy; the one with the best mean log-likelihood is kept'),
    maxNewTokens: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(160)
      .describe('most tokens generated per sequence'),
    /** Entity types the generator may write besides those of the sentence (corpus spelling). */
    entityTypes: z
      .array(z.string())
      .default([])
      .describe('entity types the generator may write besides those of the sentence (corpus spelling)'),
    /**
     * Entity-preserving constrained decoding: the generator must write the sentence's gold entities,
     * linearized, in order (label tokens elsewhere and EOS before the last entity are blocked), so
     * only the text around them is generated. BioAug itself generates freely and filters (false).
     */
    constrainEntities: z
      .boolean()
      .default(false)
      .describe("constrained decoding: the generator must write the sentence's gold entities, in order"),
    /**
     * Tokenizer style (or corpus name) that re-splits generated words outside entities: decoded text
     * glues punctuation to words ("APC2," "suppressor."), which the corpora never do. null keeps the
     * words as decoded. Entity words are the gold ones, copied, and stay as they are.
     */
    wordStyle: z
      .string()
      .nullable()
      .default('split')
      .describe('tokenizer style re-splitting generated words outside entities (null: words as decoded)'),
    /** Emit failed generations as `valid: false` records (with the raw text), else drop them (counted). */
    emitInvalid: z
      .boolean()
      .default(true)
      .describe(
        'write failed generations as valid:false records (with the raw text); false drops them, counted',
      ),
  })
  .strict();
export type GenerateFromCorruptionsConfig = z.output<typeof GenerateFromCorruptionsConfig>;

/**
 * The topologies' BioAug config: the generation config plus the corruption (copies per sentence and
 * the corruption settings), so `bioaug:` reads as one block in a topology config.
 */
export const BioaugConfig = GenerateFromCorruptionsConfig.omit({ stepId: true }).extend({
  /** Corruptions (and so generations) per sentence. */
  n: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe('corrupted copies (and so generations) per sentence'),
  corrupt: CorruptConfig.partial().default({}),
});
export type BioaugConfig = z.output<typeof BioaugConfig>;

/** Generates from each corrupted copy and de-linearizes it into an AugmentedSentence record. */
export function generateFromCorruptions(
  config: Partial<z.input<typeof GenerateFromCorruptionsConfig>> = {},
  generator?: Generator | Promise<Generator>,
): OperatorFunction<Envelope<CorruptedSentence>, Envelope<AugmentedSentence>> {
  const c = GenerateFromCorruptionsConfig.parse(config);
  const model = c.generator.model ?? defaultModel('generator');
  const modelId = modelIdOf(model);
  const wordStyle = c.wordStyle === null ? null : styleFor(c.wordStyle);
  return withModel(
    c.stepId,
    generator,
    () => createGenerator(model, { stepId: c.stepId, backend: backend(c.generator) }),
    (get) => {
      const generated = batchModel<CorruptedSentence, AugmentedSentence>(
        {
          stepId: c.stepId,
          ...batching(c.generator),
          bucketBy: (v) => (v as CorruptedSentence).input.length,
        },
        async (items) => {
          const g = await get();
          // Inputs beyond the encoder's positions cannot be generated from: they become invalid records
          // (reason in generatedText) instead of failing the whole batch.
          const limit = g.bundle.config.maxPositionEmbeddings;
          // Under entity constraints, an entity type without label tokens in the generator's vocabulary
          // cannot be written: such inputs become invalid records too (reason in generatedText).
          const known = new Set(g.bundle.labelTokens);
          const missing = items.map((x) =>
            c.constrainEntities
              ? x.expected.find(
                  (e) => !known.has(labelToken('B', e.type)) || !known.has(labelToken('I', e.type)),
                )?.type
              : undefined,
          );
          const fits = items.map((x, i) => missing[i] === undefined && g.encode(x.input).length <= limit);
          const runnable = items.filter((_, i) => fits[i]);
          const outs =
            runnable.length === 0
              ? []
              : await g.generate(
                  runnable.map((x) => x.input),
                  {
                    strategy: c.strategy,
                    topK: c.topK,
                    topP: c.topP,
                    temperature: c.temperature,
                    numBeams: c.numBeams,
                    maxNewTokens: c.maxNewTokens,
                    numReturnSequences:
                      c.strategy === 'greedy'
                        ? 1
                        : c.strategy === 'sample'
                          ? c.samples
                          : Math.min(c.samples, c.numBeams),
                    seeds: runnable.map((x) => x.seed),
                    allowedLabelTokensOnly: true,
                    ...(c.constrainEntities
                      ? { requiredSpans: runnable.map((x) => entitySpanIds(g, x.expected)) }
                      : {}),
                  },
                );
          let k = 0;
          return items.map((x, i) =>
            fits[i]
              ? fromBest(x, outs[k++] ?? [], c, modelId, wordStyle)
              : notGenerated(
                  x,
                  c.seed,
                  modelId,
                  missing[i] !== undefined
                    ? `(not generated: the generator has no label tokens for entity type ${missing[i]})`
                    : `(not generated: the input exceeds the generator's ${limit} positions)`,
                ),
          );
        },
      );
      return (source) =>
        source.pipe(generated, (s) =>
          c.emitInvalid
            ? s
            : s.pipe(
                flatMapStep<AugmentedSentence, AugmentedSentence>(
                  'drop-invalid',
                  (a) => (a.valid ? [a] : []),
                  (a) => a.id,
                ),
              ),
        );
    },
  );
}

/**
 * The record of a copy's best sequence: the valid one with the highest mean token log-likelihood (the
 * first on ties), else the likeliest invalid one. Preferring valid ones is what "generate more, keep the
 * best" is for: an invalid sequence is never a training sentence, however likely.
 */
function fromBest(
  x: CorruptedSentence,
  outs: readonly Generated[],
  c: GenerateFromCorruptionsConfig,
  modelId: string,
  wordStyle: TokenizerStyle | null,
): AugmentedSentence {
  if (outs.length === 0) return toAugmented(x, '', c, modelId, wordStyle, null);
  let best: { r: AugmentedSentence; lp: number } | undefined;
  for (const o of outs) {
    const r = toAugmented(x, o.text, c, modelId, wordStyle, o.meanLogProb);
    if (!best || (r.valid && !best.r.valid) || (r.valid === best.r.valid && o.meanLogProb > best.lp))
      best = { r, lp: o.meanLogProb };
  }
  return best!.r;
}

/** Token ids of each expected entity, linearized as in the sketch (`<b-x> w <b-x> <i-x> w2 <i-x>`). */
export function entitySpanIds(g: Generator, expected: readonly ExpectedEntity[]): number[][] {
  const cfg = g.bundle.config;
  const strip = new Set([cfg.bosTokenId, cfg.eosTokenId, cfg.padTokenId]);
  const linearized = (e: ExpectedEntity): string =>
    e.tokens
      .map((w, j) => {
        const label = labelToken(j === 0 ? 'B' : 'I', e.type);
        return `${label} ${w} ${label}`;
      })
      .join(' ');
  return expected.map((e) => g.encode(linearized(e)).filter((id) => !strip.has(id)));
}

/**
 * The record of one generation: validated labels, or `valid: false` with the raw text. The label
 * vocabulary is the copy's entity types plus the configured `entityTypes`.
 */
export function toAugmented(
  x: CorruptedSentence,
  text: string,
  c: Pick<GenerateFromCorruptionsConfig, 'seed' | 'entityTypes'>,
  modelId: string,
  wordStyle: TokenizerStyle | null = null,
  meanLogProb: number | null = null,
): AugmentedSentence {
  const types = [...new Set([...x.expected.map((e) => e.type), ...c.entityTypes])];
  const raw = delinearize(text, new LabelVocabulary(types), { expected: x.expected });
  const d =
    raw.ok && wordStyle
      ? { ok: true as const, ...retokenizeLabeled(raw, wordStyle, { keepEntities: true }) }
      : raw;
  const base = {
    id: x.id,
    sourceId: x.sourceId,
    method: 'bioaug',
    seed: c.seed,
    modelId,
    generatedText: text,
    createdAt: Date.now(),
    meanLogProb,
    taggerAgreement: null,
  };
  if (!d.ok)
    return {
      ...base,
      tokens: [],
      tags: [],
      valid: false,
      newTokenShare: 0,
      lengthDiff: 0,
      quality: 0,
      rejectReason: d.reason,
    };
  const sourceTokens = x.source.tokens;
  const src = new Set(sourceTokens);
  return withQuality({
    ...base,
    tokens: d.tokens,
    tags: d.tags,
    valid: true,
    newTokenShare: d.tokens.filter((t) => !src.has(t)).length / d.tokens.length,
    lengthDiff: d.tokens.length - sourceTokens.length,
    quality: null,
    rejectReason: null,
  });
}

function notGenerated(x: CorruptedSentence, seed: number, modelId: string, why: string): AugmentedSentence {
  return {
    id: x.id,
    sourceId: x.sourceId,
    method: 'bioaug',
    seed,
    modelId,
    tokens: [],
    tags: [],
    valid: false,
    newTokenShare: 0,
    lengthDiff: 0,
    generatedText: why,
    createdAt: Date.now(),
    meanLogProb: null,
    taggerAgreement: null,
    quality: 0,
    rejectReason: 'not-generated',
  };
}
