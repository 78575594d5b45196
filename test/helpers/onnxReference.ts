// The training recipes write reference PyTorch emissions for a sample batch (verify JSON); this runs the
// exported model.onnx on the same inputs and returns the largest difference over unmasked positions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

interface Reference {
  word_ids: number[][];
  char_ids: number[][][];
  mask: number[][];
  emissions: number[][][];
}

/**
 * Runs `<bundle>/model.onnx` on the reference batch: its emissions' dims, the reference batch's
 * [sentences, positions], and the max |ONNX - PyTorch|.
 */
export async function onnxVsReference(
  bundle: string,
  referenceFile: string,
): Promise<{ dims: readonly number[]; batch: [number, number]; maxDiff: number }> {
  const ref = JSON.parse(readFileSync(referenceFile, 'utf8')) as Reference;
  const B = ref.word_ids.length;
  const T = ref.word_ids[0]!.length;
  const C = ref.char_ids[0]![0]!.length;
  const i64 = (a: number[], dims: number[]) =>
    new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
  const session = await ort.InferenceSession.create(join(bundle, 'model.onnx'));
  try {
    const res = await session.run({
      word_ids: i64(ref.word_ids.flat(), [B, T]),
      char_ids: i64(ref.char_ids.flat(2), [B, T, C]),
      mask: new ort.Tensor('float32', Float32Array.from(ref.mask.flat()), [B, T]),
    });
    const dims = res.emissions!.dims;
    const L = dims[2]!;
    const em = res.emissions!.data as Float32Array;
    let maxDiff = 0;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        if (ref.mask[b]![t])
          for (let l = 0; l < L; l++)
            maxDiff = Math.max(maxDiff, Math.abs(em[(b * T + t) * L + l]! - ref.emissions[b]![t]![l]!));
    return { dims, batch: [B, T], maxDiff };
  } finally {
    await session.release();
  }
}
