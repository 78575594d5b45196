import type { z } from 'zod';
// A loaded encoder-decoder that generates for batches of texts. The parts: generateConfig.ts (options),
// seq2seqModel.ts (encoder, decoder steps, KV cache), tokenConstraints.ts (what may be written next),
// sampleOrGreedy.ts and beamSearch.ts (the strategies), sampling.ts (token choice).
import type { BackendConfig } from '../backend.ts';
import { disposeBundle, loadBundle, type Seq2SeqBundle } from '../bundle.ts';
import { ModelError } from '../errors.ts';
import { beamSearch } from './beamSearch.ts';
import type { Decoding } from './decoding.ts';
import { GenerateConfig, type GenerateOptions } from './generateConfig.ts';
import { sampleOrGreedy } from './sampleOrGreedy.ts';
import { Seq2SeqModel } from './seq2seqModel.ts';
import { TokenConstraints } from './tokenConstraints.ts';

export { GenerateConfig, type GenerateOptions } from './generateConfig.ts';

/** One generated sequence: ids without the start token and without the final EOS; score as documented. */
export interface Generated {
  text: string;
  tokenIds: number[];
  /** greedy/sample: sum of token log-probabilities; beam: that sum / length ** lengthPenalty (EOS counted). */
  score: number;
  /** Mean token log-probability under the model (the sum over the tokens scored, EOS counted, / their count). */
  meanLogProb: number;
}

/** A loaded encoder-decoder. */
export interface Generator {
  readonly bundle: Seq2SeqBundle;
  /** Generates for a batch of texts: one array of `numReturnSequences` results per input. */
  generate(inputs: string[], opts?: GenerateOptions): Promise<Generated[][]>;
  /** Same, from token ids (special tokens included as the model expects them). */
  generateIds(inputs: number[][], opts?: GenerateOptions): Promise<Generated[][]>;
  /** Token ids of a text as the encoder sees it. */
  encode(text: string): number[];
  dispose(): Promise<void>;
}

/** Loads a seq2seq bundle (Optimum layout) and returns a batched generator. */
export async function createGenerator(
  dir: string,
  opts: { stepId?: string; backend?: z.input<typeof BackendConfig> } = {},
): Promise<Generator> {
  const b = (await loadBundle(dir, {
    task: 'seq2seq',
    ...(opts.backend ? { backend: opts.backend } : {}),
  })) as Seq2SeqBundle;
  return new Seq2SeqGenerator(b, opts.stepId ?? 'generate');
}

/** Checks the options against the inputs and the bundle; returns them parsed, maxNewTokens capped. */
function checkRequest(
  bundle: Seq2SeqBundle,
  labelIds: ReadonlySet<number>,
  stepId: string,
  inputs: number[][],
  opts: GenerateOptions,
): GenerateConfig {
  const parsed = GenerateConfig.safeParse(opts);
  if (!parsed.success)
    throw new ModelError(
      'config',
      `${stepId}: generate options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (strategy: greedy, sample, beam, beam-sample)`,
    );
  const o = parsed.data;
  if (o.seeds && o.seeds.length !== inputs.length)
    throw new ModelError(
      'config',
      `${stepId}: seeds has ${o.seeds.length} entries for ${inputs.length} inputs`,
    );
  if (o.requiredSpans) {
    if (o.requiredSpans.length !== inputs.length)
      throw new ModelError(
        'config',
        `${stepId}: requiredSpans has ${o.requiredSpans.length} entries for ${inputs.length} inputs`,
      );
    o.requiredSpans.forEach((spans, i) =>
      spans.forEach((sp, k) => {
        if (sp.length === 0 || !labelIds.has(sp[0]!))
          throw new ModelError(
            'config',
            `${stepId}: requiredSpans[${i}][${k}] must start with a label token of the bundle (${bundle.labelTokens.join(', ')})`,
          );
      }),
    );
  }
  if (o.forcedIds && (o.strategy !== 'greedy' || o.forcedIds.length !== inputs.length))
    throw new ModelError(
      'config',
      `${stepId}: forcedIds needs strategy greedy and one sequence per input (${inputs.length})`,
    );
  if (o.strategy === 'greedy' && o.numReturnSequences > 1)
    throw new ModelError('config', `${stepId}: greedy returns one sequence; use sample or beam for more`);
  if (isBeam(o) && o.numReturnSequences > o.numBeams)
    throw new ModelError(
      'config',
      `${stepId}: numReturnSequences (${o.numReturnSequences}) > numBeams (${o.numBeams})`,
    );
  // The decoder has maxPositionEmbeddings positions, the start token takes one: generation stops there.
  o.maxNewTokens = Math.min(o.maxNewTokens, bundle.config.maxPositionEmbeddings - 1);
  const maxS = bundle.config.maxPositionEmbeddings;
  inputs.forEach((ids, i) => {
    if (ids.length === 0) throw new ModelError('input', `${stepId}: input ${i} is empty`);
    if (ids.length > maxS)
      throw new ModelError(
        'input',
        `${stepId}: input ${i} has ${ids.length} tokens, the encoder takes at most ${maxS}`,
      );
  });
  return o;
}

function isBeam(o: GenerateConfig): boolean {
  return o.strategy === 'beam' || o.strategy === 'beam-sample';
}

class Seq2SeqGenerator implements Generator {
  private readonly model: Seq2SeqModel;
  private readonly constraints: TokenConstraints;
  private readonly decoding: Decoding;
  private readonly stripIds: Set<number>;

  constructor(
    readonly bundle: Seq2SeqBundle,
    private readonly stepId: string,
  ) {
    const c = bundle.config;
    this.model = new Seq2SeqModel(bundle, stepId);
    this.constraints = new TokenConstraints(bundle);
    this.stripIds = new Set([c.bosTokenId, c.eosTokenId, c.padTokenId]);
    this.decoding = {
      model: this.model,
      constraints: this.constraints,
      result: (ids, score, sum) => this.result(ids, score, sum),
    };
  }

  encode(text: string): number[] {
    return this.bundle.tokenizer.encode(text).ids;
  }

  generate(inputs: string[], opts: GenerateOptions = {}): Promise<Generated[][]> {
    return this.generateIds(
      inputs.map((t) => this.encode(t)),
      opts,
    );
  }

  async generateIds(inputs: number[][], opts: GenerateOptions = {}): Promise<Generated[][]> {
    const o = checkRequest(this.bundle, this.constraints.labelIds, this.stepId, inputs, opts);
    if (inputs.length === 0) return [];
    const beams = isBeam(o);
    const per = beams ? o.numBeams : o.strategy === 'sample' ? o.numReturnSequences : 1;
    const enc = await this.model.encode(inputs, per);
    return beams
      ? beamSearch(this.decoding, inputs.length, enc, o)
      : sampleOrGreedy(this.decoding, inputs.length, per, enc, o);
  }

  dispose(): Promise<void> {
    return disposeBundle(this.bundle);
  }

  /** Ids without the final EOS, their text without bos/eos/pad, the score, the mean log-prob. */
  private result(ids: number[], score: number, sum = score): Generated {
    const eos = this.bundle.config.eosTokenId;
    const tokenIds = ids[ids.length - 1] === eos ? ids.slice(0, -1) : ids.slice();
    const visible = tokenIds.filter((t) => !this.stripIds.has(t));
    const text = visible.length
      ? this.bundle.tokenizer.decode(visible, { skip_special_tokens: false }).trim()
      : '';
    return { text, tokenIds, score, meanLogProb: ids.length ? sum / ids.length : 0 };
  }
}
