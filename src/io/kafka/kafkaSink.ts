import { Observable, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Envelope } from '../../engine/envelope.ts';
import type { Sink } from '../../engine/types.ts';
import { metrics } from '../../obs/metrics.ts';
import { stepLogger } from '../../obs/logger.ts';
import { createKafka, type KafkaConnection } from './client.ts';
import { SinkWriteError } from './errors.ts';

/** Config of a Kafka sink: the topic it writes and its tunables (validated, merged over defaults). */
export const KafkaSinkConfig = z
  .object({
    id: z.string().min(1).optional(),
    topic: z.string().min(1),
    batchSize: z.number().int().positive().default(500),
    lingerMs: z.number().int().nonnegative().default(5),
    compression: z.enum(['none', 'gzip']).default('none'),
    maxRetries: z.number().int().nonnegative().default(12),
    retryBackoffMs: z.number().int().positive().default(100),
    maxConcurrentSends: z.number().int().positive().default(4),
    /** Add a `trace-id` header (the envelope's trace id) to every record. */
    traceHeader: z.boolean().default(true),
    /** Value of the `schema` header on every record (e.g. the Avro full name). */
    schema: z.string().min(1).optional(),
  })
  .strict();

export type KafkaSinkConfig = z.output<typeof KafkaSinkConfig>;

/** What the constructor takes: the connection, the config, and the injected encoder (and kafkajs client). */
export type KafkaSinkInit<T> = KafkaConnection &
  z.input<typeof KafkaSinkConfig> & {
    /** The record value; null writes a tombstone. */
    encode: (value: T, env: Envelope<T>) => Buffer | null;
    kafka?: Kafka;
  };

// Protocol errors that no retry can fix: fail the batch at once.
const FATAL = new Set([
  'MESSAGE_TOO_LARGE',
  'INVALID_RECORD',
  'RECORD_LIST_TOO_LARGE',
  'TOPIC_AUTHORIZATION_FAILED',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'CORRUPT_MESSAGE',
]);

function isFatal(e: unknown): boolean {
  // kafkajs wraps the broker's error when its own retries are spent (KafkaJSNumberOfRetriesExceeded,
  // e.g. after ~17 s of UNKNOWN_TOPIC_OR_PARTITION): look down the cause chain, or every one of our
  // attempts would wait out kafkajs' retries again (minutes for a dead-letter topic that is missing).
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const type = (cur as { type?: unknown }).type;
    if (typeof type === 'string' && FATAL.has(type)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Producer sink: acks=all, batches of `batchSize` or `lingerMs`, optional gzip, stable keys from
 * the envelope, retries with exponential backoff; acks each envelope's token once its send resolves.
 */
export class KafkaSink<T> implements Sink<T> {
  readonly id: string;
  private readonly opts: KafkaSinkConfig;
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private readonly log;
  readonly stats = { sent: 0, batches: 0, retries: 0, failed: 0 };

  constructor(private readonly init: KafkaSinkInit<T>) {
    const {
      encode: _e,
      kafka,
      brokers,
      clientId,
      ssl,
      sasl,
      connectionTimeoutMs: _c,
      requestTimeoutMs: _r,
      ...rest
    } = init;
    const parsed = KafkaSinkConfig.safeParse(rest);
    if (!parsed.success)
      throw new Error(
        `KafkaSink: invalid options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    this.opts = parsed.data;
    this.id = this.opts.id ?? `kafka:${this.opts.topic}`;
    this.log = stepLogger(this.id);
    this.kafka = kafka ?? createKafka({ brokers, clientId, ssl, sasl });
  }

  private connect(): Promise<Producer> {
    if (!this.connecting) {
      const p = this.kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: false,
        // kafkajs 2's default (murmur2, as the Java client), named so kafkajs does not warn about the change.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.connecting = p.connect().then(() => {
        this.producer = p;
        return p;
      });
      this.connecting.catch(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  /** Sends records with retries; resolves when the broker acknowledged them (acks=all). */
  async send(messages: Message[]): Promise<void> {
    const o = this.opts;
    let delay = o.retryBackoffMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const producer = await this.connect();
        await producer.send({
          topic: o.topic,
          acks: -1,
          compression: o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          messages,
        });
        return;
      } catch (e) {
        if (isFatal(e) || attempt >= o.maxRetries) {
          throw new SinkWriteError(
            `sink ${this.id}: send to ${o.topic} failed after ${attempt + 1} attempt(s): ${(e as Error).message}`,
            false,
            e,
          );
        }
        this.stats.retries += 1;
        metrics.errors.labels(this.id, 'true').inc();
        this.log.warn({ err: e, attempt }, 'send failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  write(): OperatorFunction<Envelope<T>, Envelope<T>> {
    const o = this.opts;
    const produced = metrics.produced.labels(this.id, o.topic);
    return (source) =>
      new Observable<Envelope<T>>((sub) => {
        // Two parallel arrays rather than an entry object per record: fewer objects live while in flight.
        let envs: Array<Envelope<T>> = [];
        let msgs: Message[] = [];
        let timer: NodeJS.Timeout | null = null;
        let active = 0;
        const waiting: Array<() => void> = [];
        const inflight = new Set<Promise<void>>();
        let closed = false;
        // Connect while the source is still joining its group, not on the first record.
        this.connect().catch((e: unknown) =>
          this.log.warn({ err: e }, 'producer connect failed; will retry on send'),
        );

        const flush = (): void => {
          if (timer) clearTimeout(timer);
          timer = null;
          if (envs.length === 0) return;
          const batch = envs;
          const messages = msgs;
          envs = [];
          msgs = [];
          const p = (async () => {
            // Bounded concurrency: at most maxConcurrentSends batches on the wire.
            while (active >= o.maxConcurrentSends) await new Promise<void>((r) => waiting.push(r));
            active += 1;
            try {
              await this.send(messages);
              this.stats.sent += batch.length;
              this.stats.batches += 1;
              produced.inc(batch.length);
              for (const env of batch) {
                env.ack.ack();
                if (!closed) sub.next(env);
              }
            } catch (e) {
              this.stats.failed += batch.length;
              for (const env of batch) env.ack.nack(e, 'sink', this.id);
            } finally {
              active -= 1;
              waiting.shift()?.();
            }
          })();
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        };

        const subscription = source.subscribe({
          next: (env) => {
            let value: Buffer | null;
            try {
              value = this.init.encode(env.value, env);
            } catch (e) {
              env.ack.nack(e, 'encode', this.id);
              return;
            }
            // The envelope's headers are passed as they are unless the sink adds some (kafkajs only reads them).
            let headers = env.headers;
            if (o.traceHeader || o.schema) {
              headers = { ...env.headers };
              if (o.traceHeader) headers['trace-id'] = env.traceId;
              if (o.schema) headers.schema = o.schema;
            }
            envs.push(env);
            msgs.push({ key: env.key, value, headers });
            if (envs.length >= o.batchSize) flush();
            else if (!timer) timer = setTimeout(flush, o.lingerMs);
          },
          error: (e: unknown) => sub.error(e),
          complete: () => {
            flush();
            void (async () => {
              while (inflight.size > 0) await Promise.allSettled([...inflight]);
              sub.complete();
            })();
          },
        });
        return () => {
          closed = true;
          subscription.unsubscribe();
          flush();
        };
      });
  }

  /** Disconnects the producer (pending sends were awaited by the write operator). */
  async close(): Promise<void> {
    const p = this.producer ?? (this.connecting ? await this.connecting.catch(() => null) : null);
    this.producer = null;
    this.connecting = null;
    if (p) await p.disconnect();
  }
}
