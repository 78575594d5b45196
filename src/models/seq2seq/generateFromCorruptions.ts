// The BioAug serving path shared by `augment` and `ingest`: corrupt a labeled sentence n times (no
// knowledge), generate one sequence per corruption, de-linearize and validate it.
import type { OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { corruptSentence, CorruptConfig } from '../../src/augment/bioaug/corrupt.ts';
import { delinearize, type ExpectedEntity } from '../../src/augment/bioaug/delinearize.ts';
import { LabelVocabulary, labelToken } from '../../src/augment/bioaug/labels.ts';
import type { LabeledSentence } from '../../src/augment/types.ts';
import type { Envelope } from '../../src/engine/envelope.ts';
import { createRng, hash32 } from '../../src/engine/rng.ts';
import { flatMapStep } from '../../src/engine/step.ts';
import type { AugmentedSentence } from '../../src/io/avro/types.generated.ts';
import { batchModel } from '../../src/models/batchModel.ts';
import { createGenerator, type Generator } from '../../src/models/seq2seq/generator.ts';
import { bioToSpans } from '../../src/text/bio.ts';
import { retokenizeLabeled } from '../../src/text/retokenize.ts';
import { styleFor, type TokenizerStyle } from '../../src/text/tokenize.ts';
import { backend, batching, defaultModel, ModelStepConfig } from './config.ts';
import { modelIdOf } from './steps.ts';

/** Config of the BioAug generation path. */
export const BioaugConfig = z
  .object({
    generator: ModelStepConfig.prefault({ maxBatch: 16 }),
    /** Corruptions (and so generations) per sentence. */
    n: z.number().int().min(1).max(100).default(5),
    seed: z.number().int().default(1),
    corrupt: CorruptConfig.partial().default({}),
    strategy: z.enum(['sample', 'beam', 'greedy']).default('sample'),
    topK: z.number().int().min(0).default(10),
    topP: z.number().gt(0).max(1).default(1),
    temperature: z.number().gt(0).default(1),
    numBeams: z.number().int().min(1).default(4),
    maxNewTokens: z.number().int().min(1).max(1024).default(160),
    /** Entity types the generator may write besides those of the sentence (corpus spelling). */
    entityTypes: z.array(z.string()).default([]),
    /**
     * Entity-preserving constrained decoding: the generator must write the sentence's gold entities,
     * linearized, in order (label tokens elsewhere and EOS before the last entity are blocked), so
     * only the text around them is generated. BioAug itself generates freely and filters (false).
     */
    constrainEntities: z.boolean().default(false),
    /**
     * Tokenizer style (or corpus name) that re-splits generated words outside entities: decoded text
     * glues punctuation to words ("APC2," "suppressor."), which the corpora never do. null keeps the
     * words as decoded. Entity words are the gold ones, copied, and stay as they are.
     */
    wordStyle: z.string().nullable().default('split'),
    /** Emit failed generations as `valid: false` records (with the raw text), else drop them (counted). */
    emitInvalid: z.boolean().default(true),
  })
  .strict();
export type BioaugConfig = z.output<typeof BioaugConfig>;

interface Corrupted {
  id: string;
  sourceId: string;
  n: number;
  input: string;
  expected: ExpectedEntity[];
  sourceTokens: string[];
  types: string[];
  seed: number;
}

/** Corrupts each sentence `n` times; randomness forked from (seed, sentence id, copy). */
export function corruptForGeneration(
  c: BioaugConfig,
): OperatorFunction<Envelope<LabeledSentence>, Envelope<Corrupted>> {
  const root = createRng(c.seed);
  return flatMapStep<LabeledSentence, Corrupted>(
    'bioaug-corrupt',
    (s) => {
      const rng = root.fork(s.id);
      const expected = bioToSpans(s.tags).map((sp) => ({
        type: sp.type,
        tokens: s.tokens.slice(sp.start, sp.end),
      }));
      const types = [...new Set([...expected.map((e) => e.type), ...c.entityTypes])];
      const out: Corrupted[] = [];
      for (let i = 0; i < c.n; i++) {
        const r = corruptSentence(s, rng.fork(i), c.corrupt);
        out.push({
          id: `${s.id}:bioaug:${i}`,
          sourceId: s.id,
          n: i,
          input: r.sketch.join(' '),
          expected,
          sourceTokens: s.tokens,
          types,
          seed: hash32(`${c.seed}:${s.id}:${i}`) & 0x7fffffff,
        });
      }
      return out;
    },
    (v) => v.id,
  );
}

/** Generates from each corruption and de-linearizes it into an AugmentedSentence record. */
export function generateFromCorruptions(
  c: BioaugConfig,
  generator?: Generator | Promise<Generator>,
): OperatorFunction<Envelope<Corrupted>, Envelope<AugmentedSentence>> {
  const model = c.generator.model ?? defaultModel('generator');
  const modelId = modelIdOf(model);
  const wordStyle = c.wordStyle === null ? null : styleFor(c.wordStyle);
  let gen: Promise<Generator> | null = generator ? Promise.resolve(generator) : null;
  const get = (): Promise<Generator> =>
    (gen ??= createGenerator(model, { stepId: 'generate', backend: backend(c.generator) }));
  const generated = batchModel<Corrupted, AugmentedSentence>(
    { stepId: 'generate', ...batching(c.generator), bucketBy: (v) => (v as Corrupted).input.length },
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
          ? x.expected.find((e) => !known.has(labelToken('B', e.type)) || !known.has(labelToken('I', e.type)))
              ?.type
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
                numReturnSequences: 1,
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
          ? toAugmented(x, outs[k++]?.[0]?.text ?? '', c.seed, modelId, wordStyle)
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

/** The record of one generation: validated labels, or `valid: false` with the raw text. */
export function toAugmented(
  x: Corrupted,
  text: string,
  seed: number,
  modelId: string,
  wordStyle: TokenizerStyle | null = null,
): AugmentedSentence {
  const raw = delinearize(text, new LabelVocabulary(x.types), { expected: x.expected });
  const d =
    raw.ok && wordStyle
      ? { ok: true as const, ...retokenizeLabeled(raw, wordStyle, { keepEntities: true }) }
      : raw;
  const base = {
    id: x.id,
    sourceId: x.sourceId,
    method: 'bioaug',
    seed,
    modelId,
    generatedText: text,
    createdAt: Date.now(),
  };
  if (!d.ok) return { ...base, tokens: [], tags: [], valid: false, newTokenShare: 0, lengthDiff: 0 };
  const src = new Set(x.sourceTokens);
  return {
    ...base,
    tokens: d.tokens,
    tags: d.tags,
    valid: true,
    newTokenShare: d.tokens.filter((t) => !src.has(t)).length / d.tokens.length,
    lengthDiff: d.tokens.length - x.sourceTokens.length,
  };
}

function notGenerated(x: Corrupted, seed: number, modelId: string, why: string): AugmentedSentence {
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
  };
}

/** Corrupt -> generate -> de-linearize: BioAug augmentations of labeled sentences. */
export function bioaugment(
  c: BioaugConfig,
  generator?: Generator | Promise<Generator>,
): OperatorFunction<Envelope<LabeledSentence>, Envelope<AugmentedSentence>> {
  return (s) => s.pipe(corruptForGeneration(c), generateFromCorruptions(c, generator));
}
