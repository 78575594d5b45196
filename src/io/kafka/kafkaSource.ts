import { isUtf8 } from 'node:buffer';
import { Observable, type Subscriber } from 'rxjs';
import { z } from 'zod';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { AckToken, envelope, type Envelope } from '../../engine/envelope.ts';
import type { DeadLetterInput, DeadLetterWriter, Source, SourceHealth } from '../../engine/types.ts';
import { CreditGate } from '../../engine/credits.ts';
import { PartitionOffsets } from '../../engine/offsetTracker.ts';
import {
  DEAD_LETTER_FAILURE_POLICIES,
  DEAD_LETTER_RETRY,
  retryDeadLetterUntil,
  writeDeadLetter,
} from '../../engine/deadLetters.ts';
import { metrics } from '../../obs/metrics.ts';
import { stepLogger } from '../../obs/logger.ts';
import { createKafka, headersToStrings, type KafkaConnection } from './client.ts';
import { InvalidUtf8Error, NullValueError, OversizedMessageError } from './errors.ts';

/** Offsets of one partition in the current generation, and how its commits progress. */
interface Tracker {
  topic: string;
  partition: number;
  offsets: PartitionOffsets;
  /** The partition's high watermark at the last fetch (null before one). */
  highWatermark: bigint | null;
  /** When the committed offset last moved, or the partition was last seen with nothing waiting. */
  movedAt: number;
}

/** What a decoder sees besides the raw bytes. */
export interface RecordMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
}

/** Config of a Kafka source: what it consumes and its tunables (validated, merged over defaults). */
export const KafkaSourceConfig = z
  .object({
    id: z.string().min(1).optional(),
    topics: z.array(z.string().min(1)).min(1),
    groupId: z.string().min(1),
    fromBeginning: z.boolean().default(true),
    maxInFlight: z.number().int().positive().default(1000),
    lowWater: z.number().int().nonnegative().optional(),
    text: z.boolean().default(false),
    maxMessageBytes: z.number().int().positive().default(1_048_576),
    /**
     * Pass tombstones (null values) on as null instead of dead-lettering them, without calling
     * `decode` (re-injecting dead letters: a tombstone's dead letter is itself a tombstone).
     */
    passTombstones: z.boolean().default(false),
    commitIntervalMs: z.number().int().positive().default(200),
    drainTimeoutMs: z.number().int().positive().default(30_000),
    heartbeatIntervalMs: z.number().int().positive().default(1000),
    sessionTimeoutMs: z.number().int().positive().default(10_000),
    rebalanceTimeoutMs: z.number().int().positive().default(20_000),
    partitionsConsumedConcurrently: z.number().int().positive().default(1),
    maxBytesPerPartition: z.number().int().positive().default(1_048_576),
    /**
     * How long the gate may sit at maxInFlight before the consumer's partitions are paused. Short
     * stalls resolve faster than a pause/resume round trip (kafkajs drops batches fetched while
     * paused and sleeps a fetch wait before refetching); the in-flight bound holds either way,
     * since eachBatch waits for credits.
     */
    pauseGraceMs: z.number().int().nonnegative().default(100),
    /**
     * When a dead letter cannot be written after the bounded retries: `stop` ends the stream with
     * the error (exit non-zero, restart), `block` pauses the record's partition, reports not ready
     * and retries every `deadLetterRetryMs` until it is written. The offset is never skipped.
     */
    deadLetterOnFailure: z.enum(DEAD_LETTER_FAILURE_POLICIES).default('stop'),
    deadLetterRetryMs: z.number().int().positive().default(DEAD_LETTER_RETRY.maxDelayMs),
    /** Not ready once a partition's committed offset has not moved for this long while records wait. */
    stalledCommitMs: z.number().int().positive().default(300_000),
  })
  .strict();

export type KafkaSourceConfig = z.output<typeof KafkaSourceConfig>;

/**
 * What the constructor takes: the connection, the config, and what is injected rather than configured
 * (the decoder, where dead letters go, a kafkajs client).
 */
export type KafkaSourceInit<T> = KafkaConnection &
  z.input<typeof KafkaSourceConfig> & {
    decode: (raw: Buffer, meta: RecordMeta) => T;
    /**
     * Asynchronous work a record needs before `decode` (learning a schema id from the registry);
     * returns null when there is none, so the common path stays synchronous. Must not reject.
     */
    prepare?: (raw: Buffer) => Promise<unknown> | null;
    deadLetters?: DeadLetterWriter;
    /** An injected kafkajs client (tests); otherwise one is created from the connection. */
    kafka?: Kafka;
  };

/**
 * Consumer-group source: eachBatch with autoCommit off, credit backpressure (pause at maxInFlight,
 * resume at low water), per-partition contiguous-ack commits, dead letters for undecodable records.
 */
export class KafkaSource<T> implements Source<T> {
  readonly id: string;
  readonly gate: CreditGate;
  private readonly opts: KafkaSourceConfig;
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private subscriber: Subscriber<Envelope<T>> | null = null;
  private epoch = 0;
  private trackers = new Map<string, Tracker>();
  /** Why the stream failed (stop policy), for /readyz until the process exits. */
  private failure: string | null = null;
  /** Partitions held by dead letters that cannot be written (block policy): records held, first error. */
  private blocked = new Map<string, { topic: string; partition: number; records: number; reason: string }>();
  private assigned = new Set<string>();
  private stopping = false;
  private stopPromise: Promise<void> | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> = Promise.resolve();
  private readonly log;
  /** Counters for tests and the CLI summary. */
  readonly stats = {
    consumed: 0,
    acked: 0,
    deadLettered: 0,
    commits: 0,
    rebalances: 0,
    /**
     * Records emitted but not committed when a generation of this member ended (a rebalance, a
     * fault that made it rejoin, or stop): the most that can replay, here or on another member.
     */
    replayable: 0,
  };
  /**
   * Set when the coordinator rejects a commit because the generation is ending (a rebalance is under
   * way, or this member was fenced): nothing more is emitted until the member rejoins, since
   * records acked now cannot commit and would only replay on the partition's next owner.
   */
  private generationEndingAt: number | null = null;

  /**
   * True while a refused commit says this generation is ending. The hold lapses after a session
   * timeout: by then kafkajs has rejoined (onJoin clears it) or the coordinator has dropped the
   * member, so a hold with no rejoin behind it cannot stall the partition for good.
   */
  private get generationEnding(): boolean {
    const at = this.generationEndingAt;
    if (at === null) return false;
    if (Date.now() - at < this.opts.sessionTimeoutMs) return true;
    this.generationEndingAt = null;
    return false;
  }

  constructor(private readonly init: KafkaSourceInit<T>) {
    const { decode: _d, prepare: _p, deadLetters: _dl, kafka, brokers, clientId, ssl, sasl, ...rest } = init;
    delete (rest as Record<string, unknown>).connectionTimeoutMs;
    delete (rest as Record<string, unknown>).requestTimeoutMs;
    const parsed = KafkaSourceConfig.safeParse(rest);
    if (!parsed.success)
      throw new Error(
        `KafkaSource: invalid options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    this.opts = parsed.data;
    this.id = this.opts.id ?? `kafka:${this.opts.topics.join(',')}`;
    this.log = stepLogger(this.id);
    this.kafka = kafka ?? createKafka({ brokers, clientId, ssl, sasl });
    const inFlight = metrics.inFlight.labels(this.id);
    const paused = metrics.pausedPartitions.labels(this.id);
    this.gate = new CreditGate(
      this.opts.maxInFlight,
      this.opts.lowWater ?? Math.floor(this.opts.maxInFlight / 2),
      () => {
        if (this.opts.pauseGraceMs === 0) return this.pauseConsumer(paused);
        this.pauseTimer ??= setTimeout(() => {
          this.pauseTimer = null;
          if (this.gate.isPaused) this.pauseConsumer(paused);
        }, this.opts.pauseGraceMs);
      },
      () => {
        if (this.pauseTimer) clearTimeout(this.pauseTimer);
        this.pauseTimer = null;
        if (!this.consumerPaused) return;
        this.consumerPaused = false;
        paused.set(0);
        if (!this.stopping) this.setPaused(false);
      },
    );
    this.inFlightGauge = inFlight;
    this.ackedCounter = metrics.acked.labels(this.id);
  }

  private readonly inFlightGauge;
  private pauseTimer: NodeJS.Timeout | null = null;
  private consumerPaused = false;

  private pauseConsumer(gauge: { set: (n: number) => void }): void {
    this.consumerPaused = true;
    gauge.set(this.assigned.size);
    this.setPaused(true);
  }

  // Runs inside ack callbacks: must never throw. While kafkajs restarts after a crash the consumer
  // rejects pause/resume; eachBatch still waits for credits, so the bound holds either way.
  private setPaused(paused: boolean): void {
    const topics = this.opts.topics.map((topic) => ({ topic }));
    try {
      if (paused) this.consumer?.pause(topics);
      else {
        this.consumer?.resume(topics);
        // Partitions held by an unwritable dead letter stay paused.
        if (this.blocked.size > 0) this.pausePartitions([...this.blocked.values()]);
      }
    } catch (e) {
      this.log.debug({ err: e }, `consumer ${paused ? 'pause' : 'resume'} skipped`);
    }
  }
  private readonly ackedCounter: ReturnType<typeof metrics.acked.labels>;
  // prom-client hashes label sets on every update: the per-record path only bumps local counts,
  // and flushMetrics() publishes them with the commit tick.
  private readonly consumedCounts = new Map<string, { topic: string; partition: number; n: number }>();
  private ackedCount = 0;

  private flushMetrics(): void {
    for (const c of this.consumedCounts.values()) {
      if (c.n > 0) metrics.consumed.labels(this.id, c.topic, String(c.partition)).inc(c.n);
      c.n = 0;
    }
    if (this.ackedCount > 0) this.ackedCounter.inc(this.ackedCount);
    this.ackedCount = 0;
    this.inFlightGauge.set(this.gate.current);
  }

  /** Connects, joins the group and emits envelopes until `stop()`. */
  open(): Observable<Envelope<T>> {
    return new Observable<Envelope<T>>((sub) => {
      if (this.subscriber) {
        sub.error(new Error(`KafkaSource ${this.id}: open() may be subscribed once`));
        return;
      }
      this.subscriber = sub;
      this.start().catch((e: unknown) => {
        this.log.error({ err: e }, 'kafka source failed to start');
        sub.error(e);
      });
      return () => {
        void this.stop();
      };
    });
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: Math.min(o.heartbeatIntervalMs, Math.floor(o.sessionTimeoutMs / 3)),
      maxBytesPerPartition: o.maxBytesPerPartition,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => {
      this.log.warn({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts on retriable failures (it rejoins, and we start a new generation);
      // anything else ends the stream with the error.
      if (!e.payload.restart && !this.stopping) this.subscriber?.error(e.payload.error);
    });
    await consumer.connect();
    for (const topic of o.topics) await consumer.subscribe({ topic, fromBeginning: o.fromBeginning });
    if (this.stopping) return;
    this.commitTimer = setInterval(() => {
      this.flushMetrics();
      void this.commit();
    }, o.commitIntervalMs);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const epoch = this.epoch;
        const key = `${batch.topic}:${batch.partition}`;
        const live = (): boolean =>
          isRunning() &&
          !isStale() &&
          !this.stopping &&
          !this.generationEnding &&
          epoch === this.epoch &&
          this.assigned.has(key);
        // Emission is synchronous between awaits, so liveness only needs checking after one; and
        // kafkajs' fetch position only needs the last emitted offset, resolved before each await.
        if (this.generationEnding) {
          // Nothing resolved: kafkajs refetches this batch; the heartbeat tells it to rejoin, and
          // the short wait keeps the refetch from spinning until it does.
          await heartbeat();
          await new Promise((r) => setTimeout(r, Math.min(50, o.heartbeatIntervalMs)));
          return;
        }
        if (!live()) return;
        // Per-partition state is looked up once per batch: a rebalance replaces it, but it also
        // bumps the epoch, which live() checks after every await.
        const t = this.trackerFor(batch.topic, batch.partition);
        t.highWatermark = BigInt(batch.highWatermark);
        const tracker = t.offsets;
        let counted = this.consumedCounts.get(key);
        if (!counted) {
          counted = { topic: batch.topic, partition: batch.partition, n: 0 };
          this.consumedCounts.set(key, counted);
        }
        const prepare = this.init.prepare;
        let unresolved: string | null = null;
        const resolve = (): void => {
          if (unresolved !== null) resolveOffset(unresolved);
          unresolved = null;
        };
        for (const m of batch.messages) {
          if (this.stopping) return resolve();
          // Before the credit wait: between that wait and emit nothing may await, or another
          // partition's batch (partitionsConsumedConcurrently > 1) could take the same credit.
          const pending = m.value && prepare ? prepare(m.value) : null;
          if (pending) {
            resolve();
            await pending;
            if (!live()) return;
          }
          while (!this.gate.available) {
            resolve();
            // Long downstream work: keep the group session alive while waiting for credits.
            await this.gate.waitForCredit(o.heartbeatIntervalMs);
            await heartbeat();
            if (!live()) return;
          }
          counted.n += 1;
          this.emit(batch.topic, batch.partition, m, epoch, tracker);
          unresolved = m.offset;
        }
        resolve();
        await heartbeat();
      },
    });
  }

  private onJoin(assignment: Record<string, number[]>): void {
    // A new generation: trackers of the old one are dropped (their acks no longer commit), and
    // kafkajs refetches from the committed offsets, so unacked records of lost partitions replay elsewhere.
    this.epoch += 1;
    this.stats.rebalances += 1;
    this.countReplayable();
    this.generationEndingAt = null;
    this.trackers = new Map();
    this.assigned = new Set(
      Object.entries(assignment).flatMap(([topic, parts]) => parts.map((p) => `${topic}:${p}`)),
    );
    this.log.info({ epoch: this.epoch, assigned: [...this.assigned] }, 'group assignment');
  }

  /** Adds what this generation emitted and did not commit, over all partitions, to the replay counts. */
  private countReplayable(): void {
    let n = 0;
    for (const t of this.trackers.values()) n += t.offsets.uncommitted;
    this.stats.replayable += n;
    if (n > 0) metrics.replayable.labels(this.opts.groupId).inc(n);
  }

  private trackerFor(topic: string, partition: number): Tracker {
    const key = `${topic}:${partition}`;
    let t = this.trackers.get(key);
    if (!t) {
      t = { topic, partition, offsets: new PartitionOffsets(), highWatermark: null, movedAt: Date.now() };
      this.trackers.set(key, t);
    }
    return t;
  }

  /** True when the partition has records fetched and unsettled, or not yet fetched. */
  private waiting(t: Tracker): boolean {
    if (t.offsets.unsettled > 0) return true;
    const next = t.offsets.next;
    return t.highWatermark !== null && next !== null && t.highWatermark > next;
  }

  /**
   * Ready unless the stream failed, a partition is held by a dead letter that cannot be written, or
   * a partition's committed offset has not moved for `stalledCommitMs` while records wait.
   */
  health(): SourceHealth {
    if (this.failure) return { ready: false, reason: `${this.id}: ${this.failure}` };
    if (this.blocked.size > 0) {
      const [key, b] = [...this.blocked][0]!;
      return {
        ready: false,
        reason: `${this.id}: partition ${key} blocked: a dead letter cannot be written (${b.reason}); retrying`,
      };
    }
    const now = Date.now();
    for (const [key, t] of this.trackers) {
      if (now - t.movedAt > this.opts.stalledCommitMs && this.waiting(t))
        return {
          ready: false,
          reason: `${this.id}: committed offset of ${key} has not moved for ${Math.round((now - t.movedAt) / 1000)} s while records wait (stalledCommitMs=${this.opts.stalledCommitMs})`,
        };
    }
    return { ready: true };
  }

  private emit(
    topic: string,
    partition: number,
    m: KafkaMessage,
    epoch: number,
    tracker: PartitionOffsets,
  ): void {
    const sub = this.subscriber;
    if (!sub) return;
    const o = this.opts;
    const slot = tracker.register(BigInt(m.offset));
    this.gate.take();
    this.stats.consumed += 1;
    const origin = { kind: 'kafka' as const, topic, partition, offset: m.offset };
    const key = m.key ? m.key.toString('utf8') : null;
    const headers = headersToStrings(m.headers as Record<string, unknown> | undefined);
    const raw = m.value;
    // One closure per record: the dead-letter path builds its own continuation only when taken.
    const ack = AckToken.root((s) => {
      const done = (): void => {
        if (epoch === this.epoch) tracker.ack(slot);
        this.gate.release();
      };
      if (s.failures.length === 0) {
        this.stats.acked += 1;
        this.ackedCount += 1;
        return done();
      }
      this.stats.deadLettered += 1;
      // The offset advances only once the dead letter is durable. When it cannot be written the
      // failure policy applies (deadLetterFailed): the offset stays either way, so the record is
      // read again after a restart rather than skipped.
      const record: DeadLetterInput = { raw, key, headers, origin, failures: s.failures };
      void writeDeadLetter(this.init.deadLetters, record, this.id).then(done, (e: unknown) =>
        this.deadLetterFailed(e, record, topic, partition, done),
      );
    });
    if (raw === null) {
      if (o.passTombstones) return sub.next(envelope(null as T, { key, headers, origin, ack }));
      return ack.nack(new NullValueError(), 'decode', `${this.id}.decode`);
    }
    if (raw.length > o.maxMessageBytes)
      return ack.nack(
        new OversizedMessageError(raw.length, o.maxMessageBytes),
        'decode',
        `${this.id}.max-bytes`,
      );
    if (o.text && !isUtf8(raw))
      return ack.nack(new InvalidUtf8Error(raw.length), 'decode', `${this.id}.utf8`);
    let value: T;
    try {
      value = this.init.decode(raw, { topic, partition, offset: m.offset, key, headers });
    } catch (e) {
      return ack.nack(e, 'decode', `${this.id}.decode`);
    }
    sub.next(envelope(value, { key, headers, origin, ack }));
  }

  /** The dead-letter failure policy: end the stream (stop), or hold the partition and retry (block). */
  private deadLetterFailed(
    e: unknown,
    record: DeadLetterInput,
    topic: string,
    partition: number,
    done: () => void,
  ): void {
    const reason = e instanceof Error ? e.message : String(e);
    const writer = this.init.deadLetters;
    if (this.opts.deadLetterOnFailure === 'stop' || !writer || this.stopping) {
      this.failure ??= reason;
      this.gate.release();
      this.subscriber?.error(e);
      return;
    }
    const key = `${topic}:${partition}`;
    const held = this.blocked.get(key);
    if (held) held.records += 1;
    else {
      this.blocked.set(key, { topic, partition, records: 1, reason });
      this.log.error(
        { err: e, partition: key },
        `dead letters cannot be written: partition ${key} paused and /readyz not ready (deadLetters.onFailure=block); retrying every ${this.opts.deadLetterRetryMs} ms, the offset stays uncommitted`,
      );
      this.pausePartitions([{ topic, partition }]);
    }
    void retryDeadLetterUntil(writer, record, this.id, () => this.stopping, this.opts.deadLetterRetryMs).then(
      (written) => {
        const b = this.blocked.get(key);
        if (b && --b.records === 0) {
          this.blocked.delete(key);
          if (!this.stopping) this.resumePartition(topic, partition);
        }
        // Not written (stopping): the credit returns so the drain ends; the offset stays uncommitted.
        if (written) done();
        else this.gate.release();
      },
    );
  }

  private pausePartitions(parts: Array<{ topic: string; partition: number }>): void {
    try {
      for (const p of parts) this.consumer?.pause([{ topic: p.topic, partitions: [p.partition] }]);
    } catch (err) {
      this.log.debug({ err }, 'partition pause skipped');
    }
  }

  private resumePartition(topic: string, partition: number): void {
    if (this.consumerPaused) return; // the gate's resume will resume it
    try {
      this.consumer?.resume([{ topic, partitions: [partition] }]);
    } catch (err) {
      this.log.debug({ err }, 'partition resume skipped');
    }
  }

  /** Commits, per partition of the current generation, the highest contiguous acked offset. */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer;
      const epoch = this.epoch;
      if (!consumer) return;
      const pending: Array<{ topic: string; partition: number; offset: string; bump: () => void }> = [];
      const now = Date.now();
      for (const t of this.trackers.values()) {
        // A partition with nothing waiting is not stalled, however long since its last commit.
        if (!this.waiting(t)) t.movedAt = now;
        const off = t.offsets.pendingCommit();
        if (off !== null)
          pending.push({
            topic: t.topic,
            partition: t.partition,
            offset: off.toString(),
            bump: () => {
              t.offsets.markCommitted(off);
              t.movedAt = Date.now();
            },
          });
      }
      if (pending.length === 0) return;
      try {
        await consumer.commitOffsets(
          pending.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
        );
        for (const p of pending) {
          p.bump();
          metrics.committed.labels(this.opts.groupId, p.topic).inc();
        }
        this.stats.commits += 1;
        if (epoch === this.epoch) this.generationEndingAt = null;
      } catch (e) {
        // A rebalance or coordinator move: the next tick (or the next owner) commits instead.
        // A refusal that answers a commit of an earlier generation says nothing about this one.
        if (endsGeneration(e) && epoch === this.epoch) {
          if (!this.generationEnding)
            this.log.info(
              { reason: errorType(e) },
              'generation ending: emission held until the member rejoins',
            );
          this.generationEndingAt ??= Date.now();
        } else if (endsGeneration(e)) this.log.debug({ err: e }, 'commit of an earlier generation refused');
        else this.log.warn({ err: e }, 'offset commit failed; will retry');
      }
    });
    return this.committing;
  }

  /** Stops fetching, drains in-flight records (bounded by drainTimeoutMs), commits, leaves the group. */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopping = true;
    this.stopPromise = (async () => {
      const consumer = this.consumer;
      if (consumer) {
        this.setPaused(true);
        // After this source failed its stream the pipeline is torn down: only sends already on the
        // wire can still ack, so the drain is short rather than the full timeout.
        const drained = await this.gate.drain(
          this.failure ? Math.min(this.opts.drainTimeoutMs, 5000) : this.opts.drainTimeoutMs,
        );
        if (!drained)
          this.log.warn({ inFlight: this.gate.current }, 'drain timed out; unacked records will replay');
        await this.commit();
        this.countReplayable();
        if (this.commitTimer) clearInterval(this.commitTimer);
        if (this.pauseTimer) clearTimeout(this.pauseTimer);
        this.flushMetrics();
        await consumer.disconnect().catch((e: unknown) => this.log.warn({ err: e }, 'disconnect failed'));
      }
      if (this.commitTimer) clearInterval(this.commitTimer);
      this.subscriber?.complete();
    })();
    return this.stopPromise;
  }
}

/** The kafkajs error's protocol type, also when wrapped by its retrier (`cause`). */
function errorType(e: unknown): string | undefined {
  const err = e as { type?: unknown; cause?: { type?: unknown } } | null;
  const t = err?.type ?? err?.cause?.type;
  return typeof t === 'string' ? t : undefined;
}

/** Commit errors that mean this member's generation is over: it must rejoin before anything commits. */
function endsGeneration(e: unknown): boolean {
  const t = errorType(e);
  return t === 'REBALANCE_IN_PROGRESS' || t === 'ILLEGAL_GENERATION' || t === 'UNKNOWN_MEMBER_ID';
}
