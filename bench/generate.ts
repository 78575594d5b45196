// Seq2seq generation throughput with the KV cache (decoder_with_past) against recomputing the whole prefix
// each step (decoder_model only), greedy and beam 4, forcing 64 new tokens (EOS ignored) so both sides do
// the same work. Inputs: BC5CDR dev sentences. `speedup` = greedy with cache / greedy without.
// Args: --inputs N (32) --batch N (8) --new-tokens N (64) --beams N (4) --provider cpu|cuda|webgpu --threads N
import type { Provider } from '../src/models/backend.ts';
import { bc5cdrDev, benchModel, timed } from './helpers/models.ts';
import { createGenerator, type GenerateOptions, type Generator } from '../src/models/seq2seq/generator.ts';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

async function measure(
  gen: Generator,
  texts: string[],
  batch: number,
  opts: GenerateOptions,
): Promise<{ sentencesPerS: number; newTokensPerS: number }> {
  let tokens = 0;
  const s = await timed(async () => {
    for (let i = 0; i < texts.length; i += batch) {
      const out = await gen.generate(texts.slice(i, i + batch), opts);
      for (const o of out) tokens += o[0]?.tokenIds.length ?? 0;
    }
  });
  return {
    sentencesPerS: Number((texts.length / s).toFixed(2)),
    newTokensPerS: Number((tokens / s).toFixed(1)),
  };
}

export default async function main(args: string[]): Promise<void> {
  const nInputs = Number(arg(args, 'inputs', '32'));
  const batch = Number(arg(args, 'batch', '8'));
  const maxNewTokens = Number(arg(args, 'new-tokens', '64'));
  const numBeams = Number(arg(args, 'beams', '4'));
  const provider = arg(args, 'provider', 'cpu') as Provider;
  const threads = Number(arg(args, 'threads', '0'));
  const model = benchModel('generator', 'encoder_model.onnx', 'seq2seq');
  const gen = await createGenerator(model.dir, {
    stepId: 'bench-generate',
    backend: { executionProviders: [provider], intraOpNumThreads: threads },
  });
  const texts = bc5cdrDev()
    .filter((s) => s.length >= 8 && s.length <= 40)
    .slice(0, nInputs)
    .map((s) => s.join(' '));
  const base = { maxNewTokens, ignoreEos: true } as const;
  await measure(gen, texts.slice(0, batch), batch, { ...base, strategy: 'greedy', maxNewTokens: 8 });

  const greedyCache = await measure(gen, texts, batch, { ...base, strategy: 'greedy' });
  const greedyNoCache = await measure(gen, texts, batch, { ...base, strategy: 'greedy', useCache: false });
  const beamCache = await measure(gen, texts, batch, {
    ...base,
    strategy: 'beam',
    numBeams,
    earlyStopping: false,
  });
  const beamNoCache = await measure(gen, texts, batch, {
    ...base,
    strategy: 'beam',
    numBeams,
    earlyStopping: false,
    useCache: false,
  });
  await gen.dispose();
  console.log(
    JSON.stringify({
      bench: 'generate',
      model: model.which,
      provider,
      inputs: texts.length,
      batch,
      maxNewTokens,
      numBeams,
      greedy_cache: greedyCache,
      greedy_no_cache: greedyNoCache,
      beam_cache: beamCache,
      beam_no_cache: beamNoCache,
      baseline: 'same generation recomputing the prefix every step (decoder_model.onnx, no KV cache)',
      speedup: Number((greedyCache.sentencesPerS / greedyNoCache.sentencesPerS).toFixed(2)),
      ratio: Number((greedyCache.sentencesPerS / greedyNoCache.sentencesPerS).toFixed(2)),
      beam_speedup: Number((beamCache.sentencesPerS / beamNoCache.sentencesPerS).toFixed(2)),
    }),
  );
}
