// The only module that imports onnxruntime-node (with its worker script, sessionWorker.mjs): everything
// else sees ModelSession and plain tensors. It loads onnxruntime-node when first used (a session opened, a
// tensor made), not when it is imported, so commands that only read a topology (`describe`) do not load it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { z } from 'zod';
import { metrics } from '../obs/metrics.ts';
import { ModelError } from './errors.ts';

export type Tensor = Ort.Tensor;
export type Feeds = Record<string, Ort.Tensor>;
export type Outputs = Record<string, Ort.Tensor>;

type OrtModule = typeof Ort;
let ortModule: OrtModule | undefined;

/** onnxruntime-node, imported when a session is opened. */
async function loadOrt(): Promise<OrtModule> {
  return (ortModule ??= await import('onnxruntime-node'));
}

/** onnxruntime-node for the synchronous tensor helpers: the loaded module, or required now (same instance). */
function ortNow(): OrtModule {
  return (ortModule ??= createRequire(import.meta.url)('onnxruntime-node') as OrtModule);
}

export const PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const BackendConfig = z
  .object({
    /** Tried in order; ORT falls back to the next for nodes a provider cannot run. */
    executionProviders: z.array(z.enum(PROVIDERS)).min(1).default(['cpu']),
    /** 0 lets ORT choose (one thread per physical core; see intraOpThreadsFor for a shared machine). */
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
    /**
     * Each session on its own worker thread. onnxruntime-node's run() is synchronous under its promise, so
     * in-thread it blocks the JS thread (every other step of a topology) for the whole model run; on a
     * worker, parsing, tokenizing, decoding and writing overlap the run. Costs a copy of the feeds and a
     * message per run (outputs are transferred): worth it for batched tagging, not for many tiny runs.
     */
    worker: z.boolean().default(false),
  })
  .strict();
export type BackendConfig = z.output<typeof BackendConfig>;

/** Validates backend options merged over the defaults; errors list the valid choices. */
export function resolveBackendConfig(opts: z.input<typeof BackendConfig> = {}): BackendConfig {
  const r = BackendConfig.safeParse(opts);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError(
      'config',
      `backend config invalid: ${msg} (executionProviders: ${PROVIDERS.join(', ')})`,
    );
  }
  return r.data;
}

/** int64 tensor from numbers or a BigInt64Array. */
export function int64(data: BigInt64Array | readonly number[], dims: readonly number[]): Ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (x) => BigInt(x));
  return new (ortNow().Tensor)('int64', arr, dims);
}

/** float32 tensor. */
export function float32(data: Float32Array | readonly number[], dims: readonly number[]): Ort.Tensor {
  return new (ortNow().Tensor)(
    'float32',
    data instanceof Float32Array ? data : Float32Array.from(data),
    dims,
  );
}

/** bool tensor (Optimum's merged decoder `use_cache_branch`). */
export function bool(data: readonly boolean[], dims: readonly number[]): Ort.Tensor {
  return new (ortNow().Tensor)(
    'bool',
    Uint8Array.from(data, (b) => (b ? 1 : 0)),
    dims,
  );
}

/** A tensor's data as Float32Array (throws when the output is not float32). */
export function f32(t: Ort.Tensor | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array))
    throw new ModelError('runtime', `${what}: expected a float32 output, got ${t ? t.type : 'nothing'}`, {
      retriable: false,
    });
  return t.data;
}

/**
 * Intra-op threads to open a session with (0: ORT's choice, one per core), on a worker thread or not.
 * Measured on the 2-core machine with the session on a worker: when it is quiet ORT's 2 threads beat 1 for
 * ner-tagging (3.5 vs 3.8 s per 500 abstracts) and for the operator alone (2.8 vs 3.5 s); when other
 * processes load both cores 1 thread wins (5.7 vs 6.4-6.8 s and 4.3 vs 5.7 s), so `threads: 1` is the
 * setting for a shared machine.
 */
export function intraOpThreadsFor(cfg: Pick<BackendConfig, 'intraOpNumThreads'>): number {
  return cfg.intraOpNumThreads;
}

/** What ModelSession needs of a session: ORT's own, or its stand-in on a worker thread. */
interface SessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  run(feeds: Feeds): Promise<Outputs>;
  run(feeds: Feeds, fetches: readonly string[]): Promise<Outputs>;
  release(): Promise<void>;
}

interface WireTensor {
  type: Ort.Tensor.Type;
  data: Ort.Tensor.DataType;
  dims: number[];
}
type WorkerMessage =
  | {
      type: 'ready';
      meta: Pick<SessionLike, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;
    }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs?: Record<string, WireTensor>; error?: string }
  | { type: 'released' };

const workerScript = new URL('./sessionWorker.mjs', import.meta.url);

/**
 * An ORT session on a worker thread (sessionWorker.mjs): runs are posted to it and answered in order. The
 * thread holds the process open only while runs are pending. If it dies, pending runs fail and the next run
 * starts a fresh one, so one lost thread costs its batches (nacked), not the stream.
 */
class WorkerSession implements SessionLike {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, { resolve: (o: Outputs) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private released = false;

  private constructor(
    private readonly path: string,
    private readonly options: Ort.InferenceSession.SessionOptions,
    private readonly meta: Pick<
      SessionLike,
      'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'
    >,
  ) {}

  get inputNames(): readonly string[] {
    return this.meta.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.meta.outputNames;
  }
  get inputMetadata(): readonly Ort.InferenceSession.ValueMetadata[] {
    return this.meta.inputMetadata;
  }
  get outputMetadata(): readonly Ort.InferenceSession.ValueMetadata[] {
    return this.meta.outputMetadata;
  }

  static async create(path: string, options: Ort.InferenceSession.SessionOptions): Promise<WorkerSession> {
    const { worker, meta } = await WorkerSession.spawn(path, options);
    const s = new WorkerSession(path, options, meta);
    s.adopt(worker);
    return s;
  }

  /** Starts a worker and waits for its session to open (rejects with ORT's message when it cannot). */
  private static spawn(
    path: string,
    options: Ort.InferenceSession.SessionOptions,
  ): Promise<{ worker: Worker; meta: Extract<WorkerMessage, { type: 'ready' }>['meta'] }> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerScript, { workerData: { path, options } });
      const onExit = (code: number): void =>
        reject(new Error(`session worker exited (code ${code}) before opening`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: WorkerMessage) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.type === 'ready') {
          worker.unref();
          resolve({ worker, meta: m.meta });
        } else {
          void worker.terminate();
          reject(new Error(m.type === 'failed' ? m.message : `unexpected ${m.type} message`));
        }
      });
    });
  }

  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type !== 'result') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined || !m.outputs) p.reject(new Error(m.error ?? 'no outputs'));
      else {
        const outs: Outputs = {};
        for (const [name, t] of Object.entries(m.outputs))
          outs[name] = new (ortNow().Tensor)(t.type, t.data as never, t.dims);
        p.resolve(outs);
      }
    });
    const lost = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      const err = new Error(`session worker ${why}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (e) => lost(`failed: ${e.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
  }

  private async ensure(): Promise<Worker> {
    if (this.worker) return this.worker;
    this.starting ??= WorkerSession.spawn(this.path, this.options)
      .then(({ worker }) => {
        // Released while the thread was starting: end it rather than leave a session nobody releases.
        if (this.released) {
          void worker.terminate();
          throw new Error('session released');
        }
        this.adopt(worker);
        return worker;
      })
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  run(feeds: Feeds, fetches?: readonly string[]): Promise<Outputs> {
    if (this.released) return Promise.reject(new Error('session released'));
    // Posted synchronously while the thread is up: a run started from a batch's completion reaches the
    // worker before the rest of that callback (decoding, emitting downstream) runs.
    if (this.worker) return this.post(this.worker, feeds, fetches);
    return this.ensure().then((w) => this.post(w, feeds, fetches));
  }

  private post(worker: Worker, feeds: Feeds, fetches?: readonly string[]): Promise<Outputs> {
    const wire: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(feeds))
      wire[name] = { type: t.type, data: t.data, dims: [...t.dims] };
    const id = this.nextId++;
    return new Promise<Outputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      // Feeds are copied (structured clone), never transferred: callers may reuse their tensors.
      worker.postMessage({ type: 'run', id, feeds: wire, fetches: fetches ? [...fetches] : undefined });
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    for (const p of this.pending.values()) p.reject(new Error('session released'));
    this.pending.clear();
    await new Promise<void>((resolve) => {
      const done = (): void => resolve();
      worker.once('exit', done);
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'released') void worker.terminate();
      });
      worker.ref();
      worker.postMessage({ type: 'release' });
    });
  }
}

/** One model file opened as a pool of ORT sessions. */
export class ModelSession {
  private readonly busy: number[];
  private disposed = false;

  private constructor(
    readonly path: string,
    private readonly sessions: SessionLike[],
    readonly provider: Provider,
    /** Whether the sessions run on worker threads (backend option `worker`). */
    readonly onWorker: boolean,
    /** Intra-op threads per session as opened (0: ONNX Runtime's own choice, one per core). */
    readonly intraOpThreads: number,
  ) {
    this.busy = sessions.map(() => 0);
  }

  /** Opens `path` with the given options (poolSize sessions). */
  static async open(path: string, opts: z.input<typeof BackendConfig> = {}): Promise<ModelSession> {
    const cfg = resolveBackendConfig(opts);
    const intra = intraOpThreadsFor(cfg);
    const ort = await loadOrt();
    const so: Ort.InferenceSession.SessionOptions = {
      executionProviders: [...cfg.executionProviders],
      graphOptimizationLevel: cfg.graphOptimizationLevel,
      ...(intra > 0 ? { intraOpNumThreads: intra } : {}),
      ...(cfg.interOpNumThreads > 0 ? { interOpNumThreads: cfg.interOpNumThreads } : {}),
      ...(cfg.allowSpinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    const sessions: SessionLike[] = [];
    try {
      for (let i = 0; i < cfg.poolSize; i++)
        sessions.push(
          cfg.worker ? await WorkerSession.create(path, so) : await ort.InferenceSession.create(path, so),
        );
    } catch (e) {
      await Promise.all(sessions.map((s) => s.release()));
      throw new ModelError(
        'bundle',
        `model bundle: ${path}: ONNX Runtime could not open it with providers [${cfg.executionProviders.join(', ')}]: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return new ModelSession(path, sessions, cfg.executionProviders[0] ?? 'cpu', cfg.worker, intra);
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
      throw new ModelError(
        'runtime',
        `${stepId}: ONNX Runtime failed on ${this.path}: ${(e as Error).message}`,
        {
          cause: e,
          retriable: false,
        },
      );
    } finally {
      this.busy[k] = (this.busy[k] ?? 1) - 1;
      metrics.batchCompute.observe(
        { step: stepId, provider: this.provider },
        (performance.now() - t0) / 1000,
      );
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
