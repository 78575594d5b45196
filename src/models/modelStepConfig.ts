// The config of one model operator, shared by every topology: a bundle folder plus batching and backend.
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../engine/projectRoot.ts';
import { PROVIDERS } from './backend.ts';

/** A default bundle shipped in models/. */
export function defaultModel(name: string): string {
  return resolve(projectRoot, 'models', name);
}

/** The model id written into outputs: the bundle folder's name. */
export function modelIdOf(dir: string): string {
  return basename(dir.replace(/\/+$/, ''));
}

/** One model operator: which bundle, how to batch it, where to run it. */
export const ModelStepConfig = z
  .object({
    /** Bundle folder (project layout or Hugging Face Optimum export). */
    model: z
      .string()
      .optional()
      .describe(
        "bundle folder (project layout or Hugging Face Optimum export); unset: the step's bundle in models/",
      ),
    maxBatch: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(32)
      .describe('most items per model call (dynamic batching)'),
    maxWaitMs: z
      .number()
      .min(0)
      .default(10)
      .describe('longest wait, in ms, for a batch to fill before it runs'),
    /**
     * Batches in flight at once. Unset: the operator's default (2 for NER, whose session runs on a worker
     * thread: one batch runs while the next is built and the last decoded; 1 for the others).
     */
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('model batches in flight at once; unset: per operator (NER 2, others 1)'),
    providers: z
      .array(z.enum(PROVIDERS))
      .min(1)
      .default(['cpu'])
      .describe('ONNX Runtime execution providers, first preferred: cpu, cuda, webgpu'),
    threads: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'intra-op threads per session (0: ONNX Runtime chooses, one per core; 1 is faster on a shared machine)',
      ),
    /**
     * Run the model's sessions on a worker thread, so the steps around the model overlap its runs
     * (backend option `worker`, src/models/backend.ts). Unset: the operator's default (on for the token
     * taggers: NER, keywords; off for the others).
     */
    worker: z
      .boolean()
      .optional()
      .describe(
        'run the sessions on a worker thread so the steps around the model overlap; unset: per operator',
      ),
  })
  .strict();
export type ModelStepConfig = z.output<typeof ModelStepConfig>;

/** The batching part of a model step config, in the shape the model operators take (unset concurrency left out). */
export function batching(c: ModelStepConfig): {
  maxBatch: number;
  maxWaitMs: number;
  concurrency?: number;
} {
  return {
    maxBatch: c.maxBatch,
    maxWaitMs: c.maxWaitMs,
    ...(c.concurrency === undefined ? {} : { concurrency: c.concurrency }),
  };
}

/** The backend part of a model step config (`worker` only when set, so the operator's default holds). */
export function backend(c: ModelStepConfig): {
  executionProviders: ModelStepConfig['providers'];
  intraOpNumThreads: number;
  worker?: boolean;
} {
  return {
    executionProviders: c.providers,
    intraOpNumThreads: c.threads,
    ...(c.worker === undefined ? {} : { worker: c.worker }),
  };
}
