// Opens a token-classification bundle through the engine's NER runtime (src/models/ner), so
// evaluation scores exactly what the streaming NER operator would produce.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SentenceTagger } from './evalNer.ts';

/** A tagger opened for evaluation; `close` releases its ONNX sessions. */
export interface LoadedTagger extends SentenceTagger {
  close?(): Promise<void>;
}

interface RuntimeTagger {
  predict(batch: { tokens: string[] }[]): Promise<{ tags: string[] }[]>;
  dispose?(): Promise<void> | void;
}
interface NerRuntime {
  createTokenTagger(dir: string, opts?: Record<string, unknown>): Promise<RuntimeTagger>;
}

// The runtime module path: kept in a variable so this file type-checks while src/models evolves.
const RUNTIME = '../models/ner/index.ts';

/** Opens `dir` (a bundle folder) with the engine's `createTokenTagger`. */
export async function loadTagger(dir: string): Promise<LoadedTagger> {
  const meta = join(dir, 'model.json');
  if (!existsSync(dir)) throw new Error(`eval ner: --model ${dir} does not exist`);
  let labels: string[] | undefined;
  if (existsSync(meta)) labels = (JSON.parse(readFileSync(meta, 'utf8')) as { labels?: string[] }).labels;
  const runtime = (await import(RUNTIME)) as NerRuntime;
  const tagger = await runtime.createTokenTagger(dir);
  return {
    labels,
    predict: (batch) => tagger.predict(batch),
    close: async () => {
      await tagger.dispose?.();
    },
  };
}
