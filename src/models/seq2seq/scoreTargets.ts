// The generator's mean token log-likelihood of given outputs (teacher forcing): how fluent a text is to
// the model that would have written it from the same input. The generation operator gets this number
// for free from its own sampling; this scores texts it did not write (a source sentence, a garbled one).
import type { Generator } from './generator.ts';

/** Mean token log-likelihood (EOS counted) of each target given its input, under the generator. */
export async function scoreTargets(g: Generator, inputs: string[], targets: string[]): Promise<number[]> {
  const cfg = g.bundle.config;
  const strip = new Set([cfg.bosTokenId, cfg.eosTokenId, cfg.padTokenId]);
  const forcedIds = targets.map((t) => g.encode(t).filter((id) => !strip.has(id)));
  const maxNewTokens = Math.max(1, ...forcedIds.map((ids) => ids.length + 1));
  const out = await g.generate(inputs, {
    strategy: 'greedy',
    forcedIds,
    maxNewTokens,
    allowedLabelTokensOnly: true,
  });
  return out.map((row) => row[0]?.meanLogProb ?? -Infinity);
}
