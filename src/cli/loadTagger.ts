// Opens a token-classification bundle through the engine's NER runtime (src/models/ner), so
// evaluation scores exactly what the streaming NER operator would produce. It lives in cli because
// it composes models with eval (eval itself only scores).
import { existsSync } from 'node:fs';
import { createTokenTagger } from '../models/ner/tokenTagger.ts';
import type { SentenceTagger } from '../eval/evalNer.ts';

/** A tagger opened for evaluation; `close` releases its ONNX sessions. */
export interface LoadedTagger extends SentenceTagger {
  close?(): Promise<void>;
}

/** Opens `dir` (a bundle folder) with the engine's `createTokenTagger`. */
export async function loadTagger(dir: string): Promise<LoadedTagger> {
  if (!existsSync(dir)) throw new Error(`eval ner: --model ${dir} does not exist`);
  const tagger = await createTokenTagger(dir);
  return {
    labels: tagger.labels,
    predict: (batch) => tagger.predict(batch),
    close: async () => {
      await tagger.dispose();
    },
  };
}
