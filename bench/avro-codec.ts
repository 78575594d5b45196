/**
 * Codec throughput: `npm run bench -- avro-codec`. Compares `codec.encode`/`decode` (wire
 * header, validation, invalid-UTF-8 check) with bare avsc toBuffer/fromBuffer on the same
 * NerPrediction in the same run; prints one JSON line, `ratio` = ours / bare (best of 7 rounds).
 */
import { createCodec } from '../src/io/avro/codec.ts';
import type { NerPredictionInput } from '../src/io/avro/types.generated.ts';

/** Runs the benchmark and prints its JSON line. */
export default async function main(): Promise<void> {
  const codec = await createCodec();
  const n = 30;
  const v: NerPredictionInput = {
    id: '1:0',
    pmid: '1',
    sentenceIndex: 0,
    sentenceStart: 0,
    sentenceEnd: 120,
    tokens: Array.from({ length: n }, (_, i) => `token${i}`),
    tokenStarts: Array.from({ length: n }, (_, i) => i * 4),
    tokenEnds: Array.from({ length: n }, (_, i) => i * 4 + 3),
    tags: Array.from({ length: n }, () => 'O'),
    entities: [{ start: 0, end: 7, text: 'Lithium', type: 'Chemical', score: 0.9 }],
    tokenScores: Array.from({ length: n }, () => 0.9),
    modelId: 'm',
    createdAt: 0,
  };
  const type = codec.type('NerPrediction');
  const buf = codec.encode('NerPrediction', v);
  const body = buf.subarray(5);
  const N = 50_000;
  const rate = (f: () => void): number => {
    const t = performance.now();
    for (let i = 0; i < N; i++) f();
    return N / ((performance.now() - t) / 1000);
  };
  const best = { enc: 0, bareEnc: 0, dec: 0, bareDec: 0 };
  for (let r = 0; r < 7; r++) {
    best.enc = Math.max(
      best.enc,
      rate(() => codec.encode('NerPrediction', v)),
    );
    best.bareEnc = Math.max(
      best.bareEnc,
      rate(() => type.toBuffer(v)),
    );
    best.dec = Math.max(
      best.dec,
      rate(() => codec.decode(buf, 'NerPrediction')),
    );
    best.bareDec = Math.max(
      best.bareDec,
      rate(() => type.fromBuffer(body)),
    );
  }
  console.log(
    JSON.stringify({
      bench: 'avro-codec',
      message: `NerPrediction, ${n} tokens, ${buf.length} bytes`,
      encodePerS: Math.round(best.enc),
      baselineEncodePerS: Math.round(best.bareEnc),
      encodeRatio: +(best.enc / best.bareEnc).toFixed(2),
      decodePerS: Math.round(best.dec),
      baselineDecodePerS: Math.round(best.bareDec),
      ratio: +(best.dec / best.bareDec).toFixed(2),
    }),
  );
}
