import type { Observable, OperatorFunction } from 'rxjs';
import type { Envelope, Failure, Origin } from './envelope.ts';

/** A stream of envelopes from Kafka, files or memory. */
export interface Source<T> {
  readonly id: string;
  /** Starts reading; completes at end of input (files) or after `stop()` (Kafka). */
  open(): Observable<Envelope<T>>;
  /** Stops fetching; in-flight envelopes may still be acked after this resolves. */
  stop(): Promise<void>;
  /** Whether the source is healthy enough to be ready (/readyz), with the reason when it is not. */
  health?(): SourceHealth;
}

/** A source's readiness: ready, or not with one line saying why. */
export interface SourceHealth {
  ready: boolean;
  reason?: string;
}

/** A destination for envelopes: Kafka topic, file or memory. */
export interface Sink<T> {
  readonly id: string;
  /**
   * Writes each envelope and acks its token once the write is durable (producer acks=all,
   * file flushed); emits the envelope after that. Write errors nack the token.
   */
  write(): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** Flushes buffered writes and releases resources. */
  close(): Promise<void>;
}

/** A record set aside with its raw bytes and the context of its failure. */
export interface DeadLetterInput {
  raw: Buffer | null;
  key: string | null;
  headers: Record<string, string>;
  origin: Origin;
  failures: Failure[];
}

/** Where failed records go: a dead-letter topic or file. Resolves once the record is durable. */
export interface DeadLetterWriter {
  write(record: DeadLetterInput): Promise<void>;
  close(): Promise<void>;
}
