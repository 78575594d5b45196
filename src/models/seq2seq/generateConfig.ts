// The options of one generate call (src/models/seq2seq/generator.ts): strategy, lengths, sampling,
// beams, constraints, teacher forcing.
import { z } from 'zod';

/** Options of `Generator.generate`; every field has a default. */
export const GenerateConfig = z
  .object({
    /**
     * beam-sample: beam search whose candidates are drawn (top-k/top-p/temperature, without
     * replacement) instead of taken best-first, as BioAug generates ("top-k sampling with beam search").
     */
    strategy: z.enum(['greedy', 'sample', 'beam', 'beam-sample']).default('greedy'),
    /** Capped at the decoder's positions minus the start token. */
    maxNewTokens: z.number().int().min(1).max(4096).default(64),
    /** Sampling: keep the k most likely tokens (0 = all). */
    topK: z.number().int().min(0).default(0),
    /** Sampling: keep the smallest set of tokens whose probability reaches p. */
    topP: z.number().gt(0).max(1).default(1),
    temperature: z.number().gt(0).default(1),
    seed: z.number().int().default(0),
    /**
     * One seed per input (overrides `seed`): an input's samples then depend only on its own seed, not
     * on which batch it landed in, so dynamic batching keeps augmentations reproducible.
     */
    seeds: z.array(z.number().int()).optional(),
    numBeams: z.number().int().min(1).max(64).default(4),
    lengthPenalty: z.number().default(1),
    earlyStopping: z.boolean().default(true),
    /** Sequences per input: the best beams, or independent samples (greedy allows 1). */
    numReturnSequences: z.number().int().min(1).default(1),
    /** Among special tokens only EOS and the bundle's label tokens may be generated. */
    allowedLabelTokensOnly: z.boolean().default(false),
    /**
     * Entity-preserving constrained decoding, one list per input: token-id sequences (a linearized
     * entity, `<b-x> w <b-x> <i-x> w2 <i-x>`, encoded without <s>/</s>) that the output must hold in
     * this order. Each must start with a label token of the bundle. Outside them no label token may
     * be generated except the first token of the next one, which, once generated, forces the rest of
     * it; EOS is blocked until every one has been written. The free text around them stays sampled.
     */
    requiredSpans: z.array(z.array(z.array(z.number().int().nonnegative()))).optional(),
    /**
     * Teacher forcing, one token-id sequence per input (greedy only): the output is these tokens, then
     * EOS, and its score is their log-likelihood, so a given text can be scored as the model would
     * have written it (scoreTargets.ts).
     */
    forcedIds: z.array(z.array(z.number().int().nonnegative())).optional(),
    /** false: recompute the whole prefix each step with decoder_model.onnx (benchmark baseline). */
    useCache: z.boolean().default(true),
    /** Never stop at EOS (forces maxNewTokens, for benchmarks). */
    ignoreEos: z.boolean().default(false),
  })
  .strict();
export type GenerateConfig = z.output<typeof GenerateConfig>;
/** What `generate` takes: every field optional (defaults of GenerateConfig). */
export type GenerateOptions = z.input<typeof GenerateConfig>;
