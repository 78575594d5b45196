// The quality filter of the augment and ingest topologies: thresholds on the scores of each
// AugmentedSentence (schemas/AugmentedSentence.avsc) and top-k per source sentence and method. Every
// record it does not pass on is counted by reason (metric bioaug_augmented_rejected_total and a
// summary log line when the stream ends); invalid generations are counted the same way.
import { Counter } from 'prom-client';
import { Observable, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { derive, type Envelope } from '../engine/envelope.ts';
import { asStep } from '../engine/graph.ts';
import type { AugmentedSentence } from '../io/avro/types.generated.ts';
import { stepLogger } from '../obs/logger.ts';
import { metrics, registry } from '../obs/metrics.ts';

/** Records the quality filter did not pass on, by step and reason (the metric's one instance). */
export const rejectedTotal = new Counter({
  name: 'bioaug_augmented_rejected_total',
  help: 'Augmented records rejected (invalid generations and quality filters), by reason',
  labelNames: ['step', 'reason'] as const,
  registers: [registry],
});

const nullableMin = z.number().nullable().default(null);

/** Config of {@link filterAugmented}; every field has a default, and the default passes everything valid. */
export const FilterAugmentedConfig = z
  .object({
    stepId: z.string().min(1).default('quality-filter').describe('step id in logs, metrics and dead letters'),
    /** Reject records whose combined `quality` is below this (null: no threshold). */
    minQuality: nullableMin.describe(
      'reject records whose combined quality is below this (null: no threshold)',
    ),
    /** Reject BioAug records whose `meanLogProb` is below this (records without one pass). */
    minMeanLogProb: nullableMin.describe(
      'reject BioAug records whose meanLogProb is below this (null: no threshold)',
    ),
    /** Reject records whose `taggerAgreement` is below this (records without one pass). */
    minAgreement: nullableMin.describe(
      'reject records whose taggerAgreement is below this (null: no threshold)',
    ),
    /** Reject near-copies: `newTokenShare` below this. */
    minNewTokenShare: nullableMin.describe(
      'reject near-copies: newTokenShare below this (null: no threshold)',
    ),
    /** Reject rewrites: `newTokenShare` above this. */
    maxNewTokenShare: nullableMin.describe('reject rewrites: newTokenShare above this (null: no threshold)'),
    /** Reject records whose |lengthDiff| / source length is above this. */
    maxLengthChange: nullableMin.describe(
      'reject records whose |lengthDiff| / source length is above this (null: no limit)',
    ),
    /**
     * Keep at most this many records per source sentence and method, the highest `quality` first
     * (ties: lower id), and never two with the same tokens and tags (the later ones are rejected as
     * `duplicate`: a repeated copy adds weight, not data). Needs `copiesPerSource`; a group is ranked
     * when all its copies have arrived.
     */
    topK: z
      .number()
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'keep at most this many records per source sentence and method, best quality first (null: all)',
      ),
    /** Copies each source sentence gets per method (the topology's n): when a top-k group is complete. */
    copiesPerSource: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('copies each source sentence gets per method: when a top-k group is complete'),
    /**
     * Top-k groups held at once (bounded memory): past it the oldest is ranked with what it has.
     * Keep it at or above the source's in-flight limit, or top-k may rank groups early.
     */
    maxOpenGroups: z
      .number()
      .int()
      .min(1)
      .default(1024)
      .describe('top-k groups held at once; past it the oldest is ranked with what it has'),
    /** A group waiting longer than this is ranked with what it has (copies lost to dead letters; a slow generator on CPU can take a minute per batch). */
    maxHoldMs: z
      .number()
      .int()
      .min(0)
      .default(120_000)
      .describe('a top-k group waiting longer than this (ms) is ranked with what it has'),
    /** Pass invalid records on (`valid: false`, reason in `rejectReason`); false drops them, counted. */
    emitInvalid: z
      .boolean()
      .default(true)
      .describe('pass invalid records on as valid:false; false drops them, counted'),
    /**
     * Write rejected records too, as `valid: false` with `rejectReason` (consumers see what was cut and
     * why); false (default) drops them, counted, so the topic carries only training sentences.
     */
    emitRejected: z
      .boolean()
      .default(false)
      .describe('write rejected records too, as valid:false with rejectReason; false drops them, counted'),
  })
  .strict();
export type FilterAugmentedConfig = z.output<typeof FilterAugmentedConfig>;

/** The first threshold a valid record fails, or null when it passes them all. */
export function thresholdReason(r: AugmentedSentence, c: FilterAugmentedConfig): string | null {
  const source = Math.max(1, r.tokens.length - r.lengthDiff);
  if (c.minQuality !== null && (r.quality ?? 0) < c.minQuality) return 'min-quality';
  if (c.minMeanLogProb !== null && r.meanLogProb !== null && r.meanLogProb < c.minMeanLogProb)
    return 'min-mean-log-prob';
  if (c.minAgreement !== null && r.taggerAgreement !== null && r.taggerAgreement < c.minAgreement)
    return 'min-agreement';
  if (c.minNewTokenShare !== null && r.newTokenShare < c.minNewTokenShare) return 'min-new-token-share';
  if (c.maxNewTokenShare !== null && r.newTokenShare > c.maxNewTokenShare) return 'max-new-token-share';
  if (c.maxLengthChange !== null && Math.abs(r.lengthDiff) / source > c.maxLengthChange)
    return 'max-length-change';
  return null;
}

/** Whether a config filters anything (an all-default filter is skipped by the topologies). */
export function filtersAnything(c: FilterAugmentedConfig): boolean {
  return (
    !c.emitInvalid ||
    c.topK !== null ||
    [
      c.minQuality,
      c.minMeanLogProb,
      c.minAgreement,
      c.minNewTokenShare,
      c.maxNewTokenShare,
      c.maxLengthChange,
    ].some((x) => x !== null)
  );
}

type Env = Envelope<AugmentedSentence>;
interface Group {
  /** Valid copies that passed the thresholds, in arrival order. */
  items: Env[];
  /** Copies seen (valid, invalid or rejected): the group is complete at copiesPerSource. */
  arrived: number;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Applies the thresholds to each valid record, then (with topK) ranks each source sentence's copies
 * by quality and keeps the best k. Rejected records are dropped (acked as done) or, with
 * emitRejected, written with `valid: false` and `rejectReason`; both are counted by reason.
 */
export function filterAugmented(
  config: Partial<z.input<typeof FilterAugmentedConfig>> = {},
): OperatorFunction<Env, Env> {
  const c = FilterAugmentedConfig.parse(config);
  return asStep(
    c.stepId,
    (source) =>
      new Observable<Env>((sub) => {
        const counts = new Map<string, number>();
        let passed = 0;
        const groups = new Map<string, Group>();
        const count = (reason: string): void => {
          counts.set(reason, (counts.get(reason) ?? 0) + 1);
          rejectedTotal.labels(c.stepId, reason).inc();
        };
        const pass = (env: Env): void => {
          passed += 1;
          sub.next(env);
        };
        const reject = (env: Env, reason: string): void => {
          count(reason);
          if (!c.emitRejected) {
            env.ack.drop();
            return;
          }
          const v = env.value;
          sub.next(derive(env, { ...v, valid: false, quality: 0, rejectReason: reason }, env.ack));
        };
        const rank = (key: string): void => {
          const g = groups.get(key);
          if (!g) return;
          groups.delete(key);
          if (g.timer) clearTimeout(g.timer);
          const order = [...g.items].sort(
            (a, b) => (b.value.quality ?? 0) - (a.value.quality ?? 0) || a.value.id.localeCompare(b.value.id),
          );
          const kept = new Set<Env>();
          const dup = new Set<Env>();
          const seen = new Set<string>();
          for (const env of order) {
            const sig = JSON.stringify([env.value.tokens, env.value.tags]);
            if (seen.has(sig)) dup.add(env);
            else if (kept.size < (c.topK ?? order.length)) {
              seen.add(sig);
              kept.add(env);
            }
          }
          // Arrival order, so the output does not depend on the ranking beyond which records survive.
          for (const env of g.items)
            if (kept.has(env)) pass(env);
            else reject(env, dup.has(env) ? 'duplicate' : 'top-k');
        };
        const groupOf = (key: string): Group => {
          let g = groups.get(key);
          if (!g) {
            g = { items: [], arrived: 0, timer: null };
            groups.set(key, g);
            if (c.maxHoldMs > 0) {
              g.timer = setTimeout(() => rank(key), c.maxHoldMs);
              g.timer.unref?.();
            }
            // Map iteration is insertion order: the first key is the oldest group.
            if (groups.size > c.maxOpenGroups) rank(groups.keys().next().value!);
          }
          return g;
        };
        // Every record seen is one observation of the step, as in mapStep: the console's
        // records/s and latency per step read this histogram.
        const latency = metrics.stepLatency.labels(c.stepId);
        const subscription = source.subscribe({
          next: (env) => {
            const start = performance.now();
            try {
              const r = env.value;
              // The id without its copy number (`source-id:method`): all4 names each copy's own method
              // in `method`, but its n copies are one group.
              const key = r.id.slice(0, Math.max(0, r.id.lastIndexOf(':')));
              // Every copy of a source (valid, invalid or rejected) counts toward its group's completion.
              const g = c.topK !== null ? groupOf(key) : null;
              if (!r.valid) {
                count(r.rejectReason ?? 'invalid');
                if (c.emitInvalid) sub.next(env);
                else env.ack.drop();
              } else {
                const why = thresholdReason(r, c);
                if (why !== null) reject(env, why);
                else if (g) g.items.push(env);
                else pass(env);
              }
              if (g && ++g.arrived >= c.copiesPerSource) rank(key);
            } catch (e) {
              env.ack.nack(e, 'operator', c.stepId);
            }
            latency.observe((performance.now() - start) / 1000);
          },
          error: (e: unknown) => sub.error(e),
          complete: () => {
            for (const key of [...groups.keys()]) rank(key);
            stepLogger(c.stepId).info(
              { passed, rejected: Object.fromEntries(counts) },
              'quality filter: records passed and rejected by reason',
            );
            sub.complete();
          },
        });
        return () => {
          for (const g of groups.values()) if (g.timer) clearTimeout(g.timer);
          subscription.unsubscribe();
        };
      }),
  );
}
