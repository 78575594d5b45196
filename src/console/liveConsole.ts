// The live console's state: bounded samples of what flows through a running topology (the last
// predictions, augmentations, relations and dead letters) and a once-a-second sample of the engine's
// metrics (per-step rates, batches, busy time; records in/out; Kafka lag). Nothing here holds the
// stream: each buffer is a fixed-size ring, and snapshots are built from it on demand.
import { z } from 'zod';
import type { DeadLetterInput, DeadLetterWriter } from '../engine/types.ts';
import type { Origin } from '../engine/envelope.ts';
import { StreamError } from '../engine/errors.ts';
import { latestGraph, type GraphDescription, type GraphEdge, type GraphNode } from '../engine/graph.ts';
import type { AugmentedSentence, NerPrediction, RelationTriple } from '../io/avro/types.generated.ts';
import type { LagSample } from '../obs/lag.ts';
import { metrics } from '../obs/metrics.ts';
import { stepLogger } from '../obs/logger.ts';
import { Ring } from './ring.ts';
import {
  augmentedView,
  kindOf,
  predictionView,
  preview,
  relationView,
  type AugmentedView,
  type PredictionView,
  type RelationView,
  type SourceSentence,
} from './views.ts';

/** Sizes and periods of the console (all bounded; defaults suit a person watching). */
export const ConsoleConfig = z
  .object({
    /** How often metrics are sampled and the page updated (ms). */
    sampleMs: z.number().int().min(100).max(60_000).default(1000),
    /** How much rate history the chart keeps (seconds). */
    historySeconds: z.number().int().min(10).max(3600).default(300),
    /** Recent predictions, augmentations and relations kept, each. */
    tail: z.number().int().min(1).max(200).default(12),
    /** Recent dead letters kept. */
    deadLetterTail: z.number().int().min(1).max(200).default(10),
    /** Source sentences remembered to show beside their augmentations. */
    sourceSentences: z.number().int().min(1).max(10_000).default(512),
    /** Kafka lag poll period (ms). */
    lagPollMs: z.number().int().min(500).default(5000),
    /** Step busy-time share at or above which a step shows as busy (where backpressure comes from). */
    busyThreshold: z.number().min(0).max(1).default(0.7),
  })
  .strict();
export type ConsoleConfig = z.output<typeof ConsoleConfig>;

/** An invalid console configuration. */
export class ConsoleConfigError extends StreamError {
  constructor(message: string) {
    super(`console: ${message}`, {
      stage: 'config',
      step: 'console',
      hint: 'see docs/console.md for the console options and their ranges',
    });
  }
}

/** The Kafka side of a run, when it reads topics. */
export interface ConsoleKafka {
  groupId: string;
  /** Topic and the name of the source reading it (its paused gauge). */
  topics: Array<{ topic: string; source: string }>;
  /** One lag poll (the run's lag monitor). */
  poll: () => Promise<LagSample[]>;
}

/** What the console is told about the run it shows. */
export interface ConsoleRun {
  topology: string;
  /** Records read by the sources so far. */
  recordsIn: () => number;
  /** Names of the sinks (the graph's last column). */
  sinks?: string[];
  /** Names of the sources (the graph's first column). */
  sources?: string[];
  /**
   * The topology's graph as build() wired it: its steps, sources and sinks and the edges between them.
   * Default: the graph of the topology this process started last (src/engine/graph.ts latestGraph);
   * with none, the page shows the steps that have seen a record, unconnected.
   */
  graph?: () => GraphDescription;
  kafka?: ConsoleKafka;
}

/** The console's constructor argument: the run it shows and the input of {@link ConsoleConfig}. */
export type LiveConsoleInit = ConsoleRun & Partial<z.input<typeof ConsoleConfig>>;

/** One step of the graph, as sampled over the last period. */
export interface StepView {
  step: string;
  /** Records per second through the step (items, not batches). */
  recordsPerSec: number;
  total: number;
  /** Items held by the step (model steps: buffered and in a running batch). */
  inFlight: number | null;
  /** Mean items per batch (model steps) over the last period. */
  meanBatch: number | null;
  /** Mean latency per call (per batch for model steps), ms. */
  latencyMs: number | null;
  /** Share of wall time the step spent working over the last period (0-1, capped). */
  busy: number;
  state: 'busy' | 'waiting' | 'idle';
  model: boolean;
  /** Node ids (`step:<id>`, `source:<name>`) of what the step reads from; empty when not on the graph. */
  upstream: string[];
}

/**
 * The topology as a graph: `nodes` (sources, steps, sinks) and `edges` between their ids, plus the
 * lists of earlier versions (`sources`, `steps` with their figures, `sinks`).
 */
export interface GraphView {
  sources: string[];
  steps: StepView[];
  sinks: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A dead letter as the page lists it. */
export interface DeadLetterView {
  at: number;
  stage: string;
  step: string;
  errorClass: string;
  reason: string;
  origin: string;
  key: string | null;
  preview: string;
}

/** Everything the page shows, at one instant (also GET /api/snapshot). */
export interface ConsoleSnapshot {
  topology: string;
  at: number;
  uptimeSec: number;
  totals: { in: number; out: number; deadLetters: number; inPerSec: number; outPerSec: number };
  graph: GraphView;
  rates: Array<{ t: number; in: number; out: number }>;
  kafka: {
    groupId: string;
    polledAt: number | null;
    error: string | null;
    partitions: Array<{
      topic: string;
      partition: number;
      lag: number;
      committed: number | null;
      high: number;
      paused: boolean;
    }>;
  } | null;
  deadLetters: {
    total: number;
    byReason: Array<{ stage: string; step: string; errorClass: string; count: number }>;
    recent: DeadLetterView[];
  };
  predictions: PredictionView[];
  augmented: {
    total: number;
    valid: number;
    validityRate: number | null;
    rejectReasons: Array<{ reason: string; count: number }>;
    recent: AugmentedView[];
  };
  relations: RelationView[];
}

type Totals = { count: number; sum: number };
const log = stepLogger('console');
const MAX_REASON_KEYS = 100;

/** A console over one run: feed it outputs and dead letters, read snapshots. */
export class LiveConsole {
  readonly config: ConsoleConfig;
  private readonly started = Date.now();
  private readonly predictions: Ring<NerPrediction>;
  private readonly augmented: Ring<{ a: AugmentedSentence; source: SourceSentence | undefined }>;
  private readonly relations: Ring<RelationTriple>;
  private readonly dead: Ring<DeadLetterView>;
  private readonly rates: Ring<{ t: number; in: number; out: number }>;
  private readonly sources = new Map<string, SourceSentence>();
  private readonly byReason = new Map<
    string,
    { stage: string; step: string; errorClass: string; count: number }
  >();
  private readonly rejectReasons = new Map<string, number>();
  private out = 0;
  private deadTotal = 0;
  private augTotal = 0;
  private augValid = 0;
  private last: { t: number; in: number; out: number } | null = null;
  private lastSteps = new Map<string, { latency: Totals; batch: Totals | null }>();
  private readonly stepOrder: string[] = [];
  private steps: StepView[] = [];
  private lag: { samples: LagSample[]; at: number | null; error: string | null } = {
    samples: [],
    at: null,
    error: null,
  };
  private paused = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lagTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(s: ConsoleSnapshot) => void>();

  private readonly inputs: ConsoleRun;

  constructor(init: LiveConsoleInit) {
    const { topology, recordsIn, sinks, sources, graph, kafka, ...config } = init;
    this.inputs = { topology, recordsIn, sinks, sources, graph, kafka };
    const parsed = ConsoleConfig.safeParse(config);
    if (!parsed.success)
      throw new ConsoleConfigError(
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    this.config = parsed.data;
    const c = this.config;
    this.predictions = new Ring(c.tail);
    this.augmented = new Ring(c.tail);
    this.relations = new Ring(c.tail);
    this.dead = new Ring(c.deadLetterTail);
    this.rates = new Ring(Math.ceil((c.historySeconds * 1000) / c.sampleMs));
  }

  /** Adds what is known once the run is wired (graph ends, Kafka); call before start(). */
  attach(more: Partial<Pick<ConsoleRun, 'recordsIn' | 'sources' | 'sinks' | 'graph' | 'kafka'>>): this {
    Object.assign(this.inputs, more);
    return this;
  }

  /** Starts sampling (and Kafka lag polls); the page's updates follow the samples. */
  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => {
      // A failed sample must not end the run it watches: log it, try again next period.
      this.sample().catch((err: unknown) => log.warn({ err }, 'console sample failed'));
    }, this.config.sampleMs);
    this.timer.unref();
    if (this.inputs.kafka) {
      const poll = (): void => {
        this.inputs.kafka!.poll().then(
          (samples) => (this.lag = { samples, at: Date.now(), error: null }),
          (e: Error) => (this.lag = { ...this.lag, error: e.message }),
        );
      };
      poll();
      this.lagTimer = setInterval(poll, this.config.lagPollMs);
      this.lagTimer.unref();
    }
    return this;
  }

  /** Stops the timers and drops the listeners. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.timer = this.lagTimer = null;
    this.listeners.clear();
  }

  /** Called with every output record the topology wrote: counts it and keeps a reference in a ring. */
  observe(value: unknown): void {
    this.out += 1;
    switch (kindOf(value)) {
      case 'prediction': {
        const p = value as NerPrediction;
        this.predictions.push(p);
        this.remember(p.id, p);
        return;
      }
      case 'augmented': {
        const a = value as AugmentedSentence;
        this.augTotal += 1;
        if (a.valid) this.augValid += 1;
        else this.countReject(a);
        this.augmented.push({ a, source: this.sources.get(a.sourceId) });
        return;
      }
      case 'relation':
        this.relations.push(value as RelationTriple);
        return;
      default:
        return;
    }
  }

  /**
   * Called with input records: labeled sentences (id, tokens, tags) are remembered, a bounded number,
   * so an augmentation can be shown beside its source.
   */
  observeInput(value: unknown): void {
    const r = value as { id?: unknown; tokens?: unknown; tags?: unknown } | null;
    if (r && typeof r.id === 'string' && Array.isArray(r.tokens) && Array.isArray(r.tags))
      this.remember(r.id, r as SourceSentence);
  }

  /** Wraps a dead-letter writer: each record written is also counted and kept in the dead-letter ring. */
  deadLetters(inner: DeadLetterWriter): DeadLetterWriter {
    return {
      write: async (record: DeadLetterInput) => {
        await inner.write(record);
        this.recordDeadLetter(record);
      },
      close: () => inner.close(),
    };
  }

  /** Subscribes to the snapshots taken at every sample; returns the unsubscribe function. */
  onSnapshot(listener: (s: ConsoleSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Samples the metrics now (the timer calls it every sampleMs); tests call it directly. */
  async sample(): Promise<void> {
    const t = Date.now();
    const cur = { t, in: this.inputs.recordsIn(), out: this.out };
    if (this.last) {
      const dt = Math.max(1, t - this.last.t) / 1000;
      this.rates.push({
        t,
        in: round((cur.in - this.last.in) / dt),
        out: round((cur.out - this.last.out) / dt),
      });
      await this.sampleSteps(dt);
    } else {
      await this.sampleSteps(0);
    }
    this.last = cur;
    if (this.inputs.kafka) this.paused = await gaugeBy(metrics.pausedPartitions, 'source');
    if (this.listeners.size > 0) {
      const snap = this.snapshot();
      for (const l of this.listeners) l(snap);
    }
  }

  /** Everything the page shows, now. */
  snapshot(): ConsoleSnapshot {
    const rates = this.rates.toArray();
    const lastRate = rates[rates.length - 1];
    const kafka = this.inputs.kafka;
    const pausedTopic = new Set(
      (kafka?.topics ?? []).filter((x) => (this.paused.get(x.source) ?? 0) > 0).map((x) => x.topic),
    );
    return {
      topology: this.inputs.topology,
      at: Date.now(),
      uptimeSec: Math.round((Date.now() - this.started) / 1000),
      totals: {
        in: this.inputs.recordsIn(),
        out: this.out,
        deadLetters: this.deadTotal,
        inPerSec: lastRate?.in ?? 0,
        outPerSec: lastRate?.out ?? 0,
      },
      graph: this.graphView(),
      rates,
      kafka: kafka
        ? {
            groupId: kafka.groupId,
            polledAt: this.lag.at,
            error: this.lag.error,
            partitions: this.lag.samples.map((s) => ({
              topic: s.topic,
              partition: s.partition,
              lag: s.lag,
              committed: s.committed,
              high: s.high,
              // kafkajs pauses a consumer's topics as a whole: every partition of a paused topic is paused.
              paused: pausedTopic.has(s.topic),
            })),
          }
        : null,
      deadLetters: {
        total: this.deadTotal,
        byReason: [...this.byReason.values()].sort((a, b) => b.count - a.count),
        recent: this.dead.toArray().reverse(),
      },
      predictions: this.predictions.toArray().reverse().map(predictionView),
      augmented: {
        total: this.augTotal,
        valid: this.augValid,
        validityRate: this.augTotal > 0 ? round(this.augValid / this.augTotal) : null,
        rejectReasons: [...this.rejectReasons]
          .map(([reason, count]) => ({ reason, count }))
          .sort((a, b) => b.count - a.count),
        recent: this.augmented
          .toArray()
          .reverse()
          .map(({ a, source }) => augmentedView(a, source ?? this.sources.get(a.sourceId))),
      },
      relations: this.relations.toArray().reverse().map(relationView),
    };
  }

  /** The graph with the steps' figures; steps seen in the metrics but not on the graph are added unconnected. */
  private graphView(): GraphView {
    const sources = this.inputs.sources ?? [];
    const sinks = this.inputs.sinks ?? [];
    const recorded = this.inputs.graph ? this.inputs.graph() : latestGraph()?.describe();
    const nodes: GraphNode[] = recorded
      ? [...recorded.nodes]
      : sources.map((name) => ({ id: `source:${name}`, kind: 'source' as const, name }));
    const known = new Set(nodes.map((n) => n.id));
    for (const st of this.steps)
      if (!known.has(`step:${st.step}`)) nodes.push({ id: `step:${st.step}`, kind: 'step', name: st.step });
    if (!recorded) for (const name of sinks) nodes.push({ id: `sink:${name}`, kind: 'sink', name });
    const edges = recorded?.edges ?? [];
    const steps = this.steps.map((st) => ({
      ...st,
      upstream: edges.filter((e) => e.to === `step:${st.step}`).map((e) => e.from),
    }));
    return { sources, steps, sinks, nodes, edges };
  }

  private remember(id: string, s: SourceSentence): void {
    // A Map iterates in insertion order: deleting the first key drops the oldest (FIFO bound).
    if (this.sources.size >= this.config.sourceSentences) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    this.sources.set(id, { tokens: s.tokens, tags: s.tags });
  }

  private countReject(a: AugmentedSentence): void {
    const reason = augmentedView(a, undefined).reason ?? 'invalid';
    if (this.rejectReasons.size < MAX_REASON_KEYS || this.rejectReasons.has(reason))
      this.rejectReasons.set(reason, (this.rejectReasons.get(reason) ?? 0) + 1);
  }

  private recordDeadLetter(record: DeadLetterInput): void {
    this.deadTotal += 1;
    const f = record.failures[0];
    const stage = f?.stage ?? 'unknown';
    const step = f?.stepId ?? 'unknown';
    const errorClass = f?.error.name ?? 'Error';
    let key = `${stage}\u0000${step}\u0000${errorClass}`;
    // Distinct (stage, step, class) keys are few; the cap only guards against a pathological error naming.
    if (!this.byReason.has(key) && this.byReason.size >= MAX_REASON_KEYS) key = 'other';
    const entry = this.byReason.get(key) ?? { stage, step, errorClass, count: 0 };
    if (key === 'other') Object.assign(entry, { stage: 'other', step: 'other', errorClass: 'other' });
    entry.count += 1;
    this.byReason.set(key, entry);
    this.dead.push({
      at: Date.now(),
      stage,
      step,
      errorClass,
      reason: preview(f?.error.message ?? '', 500),
      origin: originText(record.origin),
      key: record.key,
      preview: record.raw ? preview(record.raw.subarray(0, 400).toString('utf8')) : '',
    });
  }

  private async sampleSteps(dt: number): Promise<void> {
    const latency = await histogramTotals(metrics.stepLatency);
    const batch = await histogramTotals(metrics.batchSize);
    const inFlight = await gaugeBy(metrics.stepInFlight, 'step');
    const views: StepView[] = [];
    for (const [step, lat] of latency) {
      if (lat.count === 0) continue;
      if (!this.stepOrder.includes(step)) this.stepOrder.push(step);
    }
    for (const step of this.stepOrder) {
      const lat = latency.get(step)!;
      const b = batch.get(step) ?? null;
      const prev = this.lastSteps.get(step);
      this.lastSteps.set(step, { latency: lat, batch: b });
      const dCount = prev ? lat.count - prev.latency.count : 0;
      const dSum = prev ? lat.sum - prev.latency.sum : 0;
      const dItems = b ? (prev?.batch ? b.sum - prev.batch.sum : 0) : dCount;
      const dBatches = b ? (prev?.batch ? b.count - prev.batch.count : 0) : 0;
      const busy = dt > 0 ? Math.min(1, dSum / dt) : 0;
      views.push({
        step,
        recordsPerSec: dt > 0 ? round(dItems / dt) : 0,
        total: b ? b.sum : lat.count,
        inFlight: inFlight.get(step) ?? null,
        // Over the last period; while a step is idle, since the start (a still page keeps its figures).
        meanBatch: !b
          ? null
          : dBatches > 0
            ? round(dItems / dBatches)
            : b.count > 0
              ? round(b.sum / b.count)
              : null,
        latencyMs:
          dCount > 0
            ? round((dSum / dCount) * 1000)
            : lat.count > 0
              ? round((lat.sum / lat.count) * 1000)
              : null,
        busy: round(busy),
        state: dItems === 0 && busy === 0 ? 'idle' : busy >= this.config.busyThreshold ? 'busy' : 'waiting',
        model: b !== null,
        upstream: [],
      });
    }
    this.steps = views;
  }
}

type MetricValues = {
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
};

/** Sum and count of a histogram, by its `step` label. */
async function histogramTotals(h: { get(): Promise<MetricValues> }): Promise<Map<string, Totals>> {
  const out = new Map<string, Totals>();
  for (const v of (await h.get()).values) {
    const name = v.metricName ?? '';
    const isSum = name.endsWith('_sum');
    if (!isSum && !name.endsWith('_count')) continue;
    const step = String(v.labels.step ?? '');
    const t = out.get(step) ?? { count: 0, sum: 0 };
    if (isSum) t.sum = v.value;
    else t.count = v.value;
    out.set(step, t);
  }
  return out;
}

/** A gauge's values by one label. */
async function gaugeBy(g: { get(): Promise<MetricValues> }, label: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await g.get()).values) out.set(String(v.labels[label] ?? ''), v.value);
  return out;
}

function originText(o: Origin): string {
  if (o.kind === 'kafka') return `kafka:${o.topic}/${o.partition}@${o.offset}`;
  if (o.kind === 'file') return `file:${o.path}${o.line !== undefined ? `:${o.line}` : `#${o.index}`}`;
  return `memory:${o.source}#${o.index}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
