/**
 * Consumer-group lag as the bioaug_consumer_lag gauge (the dashboard's lag panels read it).
 *
 * API:
 *   measureLag(admin, groupId, topics): Promise<LagSample[]>     one poll; sets the gauge per partition
 *   startLagMonitor({ admin, groupId, topics, intervalMs? }): { poll(), stop() }   polls on a timer
 * `admin` is a connected kafkajs Admin (kafka.admin() from src/io/kafka/client.ts's createKafka);
 * only the two read calls below are used, so this module does not import kafkajs.
 */
import { stepLogger } from './logger.ts';
import { metrics } from './metrics.ts';

/** The read-only part of the kafkajs Admin API that lag needs. */
export interface LagAdmin {
  fetchTopicOffsets(
    topic: string,
  ): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
  fetchOffsets(opts: {
    groupId: string;
    topics: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export type LagSample = {
  topic: string;
  partition: number;
  high: number;
  committed: number | null;
  lag: number;
};

const log = stepLogger('obs.lag');

/** Reads high watermarks and the group's committed offsets once; sets bioaug_consumer_lag and returns the samples. */
export async function measureLag(admin: LagAdmin, groupId: string, topics: string[]): Promise<LagSample[]> {
  const committedByTopic = new Map<string, Map<number, number>>();
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    const m = new Map<number, number>();
    for (const p of t.partitions) {
      const off = Number(p.offset);
      // kafkajs reports "-1" for a partition the group never committed.
      if (off >= 0) m.set(p.partition, off);
    }
    committedByTopic.set(t.topic, m);
  }
  const samples: LagSample[] = [];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const high = Number(p.high);
      const committed = committedByTopic.get(topic)?.get(p.partition) ?? null;
      // Nothing committed yet: the group will start from the earliest retained offset (fromBeginning),
      // so all retained records are lag, as KEDA counts it with offsetResetPolicy=earliest.
      const lag = Math.max(0, high - (committed ?? Number(p.low)));
      metrics.consumerLag.set({ group: groupId, topic, partition: String(p.partition) }, lag);
      samples.push({ topic, partition: p.partition, high, committed, lag });
    }
  }
  return samples;
}

export type LagMonitorOptions = {
  admin: LagAdmin;
  groupId: string;
  topics: string[];
  /** Poll period (ms, default 15 000: the Prometheus scrape interval). */
  intervalMs?: number;
};

/** Polls lag on a timer (unref'd, one poll at a time); failures are logged and retried next tick. */
export function startLagMonitor(opts: LagMonitorOptions): { poll(): Promise<LagSample[]>; stop(): void } {
  let running: Promise<LagSample[]> | undefined;
  const poll = (): Promise<LagSample[]> => {
    // A slow broker must not pile up overlapping polls.
    running ??= measureLag(opts.admin, opts.groupId, opts.topics).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    poll().catch((err: Error) =>
      log.warn({ err, group: opts.groupId }, 'consumer lag poll failed; retrying'),
    );
  }, opts.intervalMs ?? 15_000);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}
