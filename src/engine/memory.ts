import { Observable, mergeMap, type OperatorFunction } from 'rxjs';
import { AckToken, envelope, type Envelope, type Settlement } from './envelope.ts';
import type { DeadLetterWriter, Sink, Source } from './types.ts';
import { CreditGate } from './credits.ts';
import { writeDeadLetter } from './deadLetters.ts';

/** Options of an in-memory source. */
export interface MemorySourceOptions {
  maxInFlight?: number;
  deadLetters?: DeadLetterWriter;
  keyOf?: (value: unknown, index: number) => string | null;
}

/**
 * Emits a fixed list of values with credit backpressure and ack tracking; completes once every
 * record has settled. For tests and embedded runs of topologies.
 */
export class MemorySource<T> implements Source<T> {
  readonly acked: number[] = [];
  readonly failed: Array<{ index: number; settlement: Settlement }> = [];
  private stopped = false;
  readonly gate: CreditGate;

  constructor(
    readonly id: string,
    private readonly values: T[],
    private readonly opts: MemorySourceOptions = {},
  ) {
    this.gate = new CreditGate(opts.maxInFlight ?? 1000);
  }

  open(): Observable<Envelope<T>> {
    return new Observable<Envelope<T>>((sub) => {
      let cancelled = false;
      const run = async (): Promise<void> => {
        for (let i = 0; i < this.values.length && !this.stopped && !cancelled; i++) {
          while (!(await this.gate.waitForCredit(1000))) if (cancelled) return;
          this.gate.take();
          const index = i;
          const value = this.values[i] as T;
          const ack = AckToken.root((s) => {
            if (s.failures.length === 0) {
              this.acked.push(index);
              this.gate.release();
              return;
            }
            this.failed.push({ index, settlement: s });
            const raw = Buffer.from(JSON.stringify(value) ?? 'null');
            void writeDeadLetter(
              this.opts.deadLetters,
              {
                raw,
                key: null,
                headers: {},
                origin: { kind: 'memory', source: this.id, index },
                failures: s.failures,
              },
              this.id,
            ).then(
              () => this.gate.release(),
              (e: unknown) => {
                // The dead letter could not be written: the stream ends with the error (fatal).
                this.gate.release();
                sub.error(e);
              },
            );
          });
          const key = this.opts.keyOf ? this.opts.keyOf(value, index) : String(index);
          sub.next(envelope(value, { key, origin: { kind: 'memory', source: this.id, index }, ack }));
        }
        await this.gate.drain(Number.POSITIVE_INFINITY);
        sub.complete();
      };
      run().catch((e: unknown) => sub.error(e));
      return () => {
        cancelled = true;
      };
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}

/** Collects written envelopes in memory and acks them, optionally after an async delay. */
export class MemorySink<T> implements Sink<T> {
  readonly items: Array<{ key: string | null; value: T; headers: Record<string, string> }> = [];
  constructor(
    readonly id: string,
    private readonly delayMs = 0,
  ) {}

  write(): OperatorFunction<Envelope<T>, Envelope<T>> {
    return mergeMap(async (env: Envelope<T>) => {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      this.items.push({ key: env.key, value: env.value, headers: env.headers });
      env.ack.ack();
      return env;
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
