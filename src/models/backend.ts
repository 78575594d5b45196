// The only module that imports onnxruntime-node: everything else sees ModelSession and plain tensors.
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { metrics } from '../obs/metrics.ts';
import { ModelError } from './errors.ts';

export type Tensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;
export type Outputs = Record<string, ort.Tensor>;

export const PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const backendConfigSchema = z
  .object({
    /** Tried in order; ORT falls back to the next for nodes a provider cannot run. */
    executionProviders: z.array(z.enum(PROVIDERS)).min(1).default(['cpu']),
    /** 0 lets ORT choose (one thread per physical core). */
    intraOpNumThreads: z.number().int().min(0).default(0),
    interOpNumThreads: z.number().int().min(0).default(0),
    graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
    /**
     * Whether ORT's intra-op threads spin between runs. Off by default: spinning only helps a tight loop of
     * runs; with host work between runs (tokenizing, decoding) or shared cores it steals CPU from the JS
     * thread (measured 2x slower tagging on the 2-core CI machine).
     */
    allowSpinning: z.boolean().default(false),
    /** Sessions per model file; runs go to the least busy one. */
    poolSize: z.number().int().min(1).max(64).default(1),
  })
  .strict();
export type BackendConfig = z.infer<typeof backendConfigSchema>;
export type BackendOptions = z.input<typeof backendConfigSchema>;

/** Validates backend options merged over the defaults; errors list the valid choices. */
export function resolveBackendConfig(opts: BackendOptions = {}): BackendConfig {
  const r = backendConfigSchema.safeParse(opts);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError('config', `backend config invalid: ${msg} (executionProviders: ${PROVIDERS.join(', ')})`);
  }
  return r.data;
}

/** int64 tensor from numbers or a BigInt64Array. */
export function int64(data: BigInt64Array | readonly number[], dims: readonly number[]): ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (x) => BigInt(x));
  return new ort.Tensor('int64', arr, dims);
}

/** float32 tensor. */
export function float32(data: Float32Array | readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data instanceof Float32Array ? data : Float32Array.from(data), dims);
}

/** bool tensor (Optimum's merged decoder `use_cache_branch`). */
export function bool(data: readonly boolean[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('bool', Uint8Array.from(data, (b) => (b ? 1 : 0)), dims);
}

/** A tensor's data as Float32Array (throws when the output is not float32). */
export function f32(t: ort.Tensor | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array))
    throw new ModelError('runtime', `${what}: expected a float32 output, got ${t ? t.type : 'nothing'}`, {
      retriable: false,
    });
  return t.data;
}

/** One model file opened as a pool of ORT sessions. */
export class ModelSession {
  private readonly busy: number[];
  private disposed = false;

  private constructor(
    readonly path: string,
    private readonly sessions: ort.InferenceSession[],
    readonly provider: Provider,
  ) {
    this.busy = sessions.map(() => 0);
  }

  /** Opens `path` with the given options (poolSize sessions). */
  static async open(path: string, opts: BackendOptions = {}): Promise<ModelSession> {
    const cfg = resolveBackendConfig(opts);
    const so: ort.InferenceSession.SessionOptions = {
      executionProviders: [...cfg.executionProviders],
      graphOptimizationLevel: cfg.graphOptimizationLevel,
      ...(cfg.intraOpNumThreads > 0 ? { intraOpNumThreads: cfg.intraOpNumThreads } : {}),
      ...(cfg.interOpNumThreads > 0 ? { interOpNumThreads: cfg.interOpNumThreads } : {}),
      ...(cfg.allowSpinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    const sessions: ort.InferenceSession[] = [];
    try {
      for (let i = 0; i < cfg.poolSize; i++) sessions.push(await ort.InferenceSession.create(path, so));
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw new ModelError(
        'bundle',
        `model bundle: ${path}: ONNX Runtime could not open it with providers [${cfg.executionProviders.join(', ')}]: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return new ModelSession(path, sessions, cfg.executionProviders[0] ?? 'cpu');
  }

  get inputNames(): readonly string[] {
    return this.sessions[0]?.inputNames ?? [];
  }

  get outputNames(): readonly string[] {
    return this.sessions[0]?.outputNames ?? [];
  }

  /** Declared last dimension of an output when the graph fixes it (label count checks), else undefined. */
  outputLastDim(name: string): number | undefined {
    const s = this.sessions[0];
    const i = s?.outputNames.indexOf(name) ?? -1;
    const meta = i >= 0 ? s?.outputMetadata[i] : undefined;
    if (!meta || !meta.isTensor) return undefined;
    const last = meta.shape[meta.shape.length - 1];
    return typeof last === 'number' && last > 0 ? last : undefined;
  }

  /** Declared shape of an input (numbers where fixed, names or -1 where dynamic), or undefined. */
  inputShape(name: string): readonly (number | string)[] | undefined {
    const s = this.sessions[0];
    const i = s?.inputNames.indexOf(name) ?? -1;
    const meta = i >= 0 ? s?.inputMetadata[i] : undefined;
    return meta && meta.isTensor ? meta.shape : undefined;
  }

  /** Runs one batch on the least busy session, recording metrics.batchCompute under `stepId`. */
  async run(feeds: Feeds, stepId: string, outputNames?: readonly string[]): Promise<Outputs> {
    if (this.disposed) throw new ModelError('runtime', `${stepId}: session ${this.path} is disposed`);
    let k = 0;
    for (let i = 1; i < this.busy.length; i++) if ((this.busy[i] ?? 0) < (this.busy[k] ?? 0)) k = i;
    const s = this.sessions[k];
    if (!s) throw new ModelError('runtime', `${stepId}: no session`);
    this.busy[k] = (this.busy[k] ?? 0) + 1;
    const t0 = performance.now();
    try {
      return outputNames ? await s.run(feeds, outputNames) : await s.run(feeds);
    } catch (e) {
      throw new ModelError('runtime', `${stepId}: ONNX Runtime failed on ${this.path}: ${(e as Error).message}`, {
        cause: e,
        retriable: false,
      });
    } finally {
      this.busy[k] = (this.busy[k] ?? 1) - 1;
      metrics.batchCompute.observe({ step: stepId, provider: this.provider }, (performance.now() - t0) / 1000);
    }
  }

  /** Runs `feeds` once on every session so the first real batch does not pay for lazy initialization. */
  async warmup(feeds: Feeds): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.run(feeds)));
  }

  /** Releases every session; later runs fail. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
