import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process-wide Prometheus registry; /metrics serves it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'bioaug_process_' });

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every metric the engine exports. Names are a contract with deploy/ (dashboard, KEDA): do not rename. */
export const metrics = {
  consumed: new Counter({
    name: 'bioaug_messages_consumed_total',
    help: 'Records read by a source',
    labelNames: ['source', 'topic', 'partition'] as const,
    registers: [registry],
  }),
  produced: new Counter({
    name: 'bioaug_messages_produced_total',
    help: 'Records acknowledged by a sink (Kafka acks=all or file flushed)',
    labelNames: ['sink', 'topic'] as const,
    registers: [registry],
  }),
  acked: new Counter({
    name: 'bioaug_messages_acked_total',
    help: 'Source records fully processed (every derived output durable)',
    labelNames: ['source'] as const,
    registers: [registry],
  }),
  inFlight: new Gauge({
    name: 'bioaug_in_flight',
    help: 'Source records emitted and not yet settled',
    labelNames: ['source'] as const,
    registers: [registry],
  }),
  stepInFlight: new Gauge({
    name: 'bioaug_step_in_flight',
    help: 'Items held by a model step (buffered for a batch or in a running batch)',
    labelNames: ['step'] as const,
    registers: [registry],
  }),
  pausedPartitions: new Gauge({
    name: 'bioaug_paused_partitions',
    help: 'Partitions paused by credit backpressure',
    labelNames: ['source'] as const,
    registers: [registry],
  }),
  consumerLag: new Gauge({
    name: 'bioaug_consumer_lag',
    help: 'High watermark minus committed offset, per partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
  }),
  committed: new Counter({
    name: 'bioaug_offsets_committed_total',
    help: 'Offset commits sent to the group coordinator',
    labelNames: ['group', 'topic'] as const,
    registers: [registry],
  }),
  replayable: new Counter({
    name: 'bioaug_replayable_records_total',
    help: 'Records emitted but not committed when a consumer generation ended (rebalance, fencing, stop): at most this many replay',
    labelNames: ['group'] as const,
    registers: [registry],
  }),
  stepLatency: new Histogram({
    name: 'bioaug_step_latency_seconds',
    help: 'Time an item or batch spends in a step',
    labelNames: ['step'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  batchSize: new Histogram({
    name: 'bioaug_batch_size',
    help: 'Items per model batch',
    labelNames: ['step'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  }),
  batchCompute: new Histogram({
    name: 'bioaug_batch_compute_seconds',
    help: 'Model execution time per batch, by execution provider (cpu, cuda, webgpu)',
    labelNames: ['step', 'provider'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  deadLetters: new Counter({
    name: 'bioaug_dead_letters_total',
    help: 'Records sent to the dead letters',
    labelNames: ['stage', 'step'] as const,
    registers: [registry],
  }),
  errors: new Counter({
    name: 'bioaug_errors_total',
    help: 'Errors by step and retriability',
    labelNames: ['step', 'retriable'] as const,
    registers: [registry],
  }),
  documentEdits: new Counter({
    name: 'bioaug_document_edits_total',
    help: 'Entity edits made by document-level NER rules (abbreviations, consistency, brackets), by step and rule',
    labelNames: ['step', 'rule'] as const,
    registers: [registry],
  }),
  ready: new Gauge({
    name: 'bioaug_ready',
    help: 'Result of the last /readyz check (1 ready, 0 not ready)',
    registers: [registry],
  }),
  eventLoopStalls: new Counter({
    name: 'bioaug_event_loop_stalls_total',
    help: 'Event loop stalls longer than the /healthz threshold',
    registers: [registry],
  }),
};
