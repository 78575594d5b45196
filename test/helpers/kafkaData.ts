// Producing and reading back test topics with a bare kafkajs client (independent of the engine under test).
import { Partitioners, type Kafka } from 'kafkajs';
import { createKafka } from '../../src/io/kafka/client.ts';

/** Produces `n` JSON records `{ id, body }` keyed `k<id>`, in batches, acks=all. */
export async function produceRange(
  brokers: string[],
  topic: string,
  from: number,
  to: number,
  opts: { batch?: number; body?: string } = {},
): Promise<void> {
  const kafka = createKafka({ brokers, clientId: 'test-producer' });
  const p = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await p.connect();
  const batch = opts.batch ?? 2000;
  try {
    for (let i = from; i < to; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(to, i + batch); j++)
        messages.push({ key: `k${j}`, value: JSON.stringify({ id: j, body: opts.body ?? `abstract ${j}` }) });
      await p.send({ topic, acks: -1, messages });
    }
  } finally {
    await p.disconnect();
  }
}

/** Produces raw records as given. */
export async function produceRaw(
  brokers: string[],
  topic: string,
  messages: Array<{ key: string | null; value: Buffer | string | null; headers?: Record<string, string> }>,
): Promise<void> {
  const kafka = createKafka({ brokers, clientId: 'test-producer' });
  const p = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages });
  } finally {
    await p.disconnect();
  }
}

/** A record read back from a topic. */
export interface ReadRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Records present in a topic (high minus low watermark, summed). Throws when the log start moved,
 * because the broker (the mock caps retained segments per partition) deleted records a test must read.
 */
export async function topicSize(brokers: string[], topic: string, kafka?: Kafka): Promise<number> {
  const admin = (kafka ?? createKafka({ brokers, clientId: 'test-admin' })).admin();
  await admin.connect();
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    const truncated = offs.filter((o) => o.low !== '0');
    if (truncated.length > 0)
      throw new Error(
        `topicSize(${topic}): the broker deleted records (low watermarks ${truncated.map((o) => `${o.partition}:${o.low}`).join(', ')}); use more partitions`,
      );
    return offs.reduce((s, o) => s + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset of a group per partition of a topic (0 where nothing is committed). */
export async function committedOffsets(
  brokers: string[],
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = createKafka({ brokers, clientId: 'test-admin' }).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      res.flatMap((t) => t.partitions).map((p) => [p.partition, Math.max(0, Number(p.offset))] as const),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of a group on a topic, summed. */
export async function committedTotal(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = createKafka({ brokers, clientId: 'test-admin' }).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return res.flatMap((t) => t.partitions).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a whole topic (everything below the current high watermarks) with a throwaway group. */
export async function readAll(brokers: string[], topic: string, timeoutMs = 120_000): Promise<ReadRecord[]> {
  const kafka = createKafka({ brokers, clientId: 'test-reader' });
  const expected = await topicSize(brokers, topic, kafka);
  const out: ReadRecord[] = [];
  if (expected === 0) return out;
  const c = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`readAll(${topic}): read ${out.length} of ${expected} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {}))
              if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
            out.push({
              key: m.key?.toString('utf8') ?? null,
              value: m.value,
              headers,
              partition: batch.partition,
              offset: m.offset,
            });
          }
          if (out.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          await Promise.resolve();
        },
      });
    });
  } finally {
    await c.disconnect();
  }
  return out;
}

/** Polls `cond` every `everyMs` until true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
