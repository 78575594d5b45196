import { randomUUID } from 'node:crypto';

/** Where an envelope came from: a Kafka record, a position in a file, or an in-memory source. */
export type Origin =
  | { kind: 'kafka'; topic: string; partition: number; offset: string }
  | { kind: 'file'; path: string; index: number; line?: number }
  | { kind: 'memory'; source: string; index: number };

/** One failure reported through a nack: which step failed, and why. */
export interface Failure {
  stage: string;
  stepId: string;
  error: Error;
}

/** The settled outcome of a root token: every descendant acked, dropped or nacked. */
export interface Settlement {
  failures: Failure[];
}

// One node per token; a root node also carries the settle callback and (once something failed) the
// failures, so a plain record costs two small objects: sources make one per input, on the hot path.
type Node = {
  pending: number;
  settled: boolean;
  /** Once split, the node settles only through its children. */
  split: boolean;
  parent: Node | null;
  root: Node;
  failures: Failure[] | null;
  onSettle: ((s: Settlement) => void) | null;
};

/**
 * Reference-counted acknowledgement token.
 *
 * A root token is created by a source for one input record. Operators that fan out call
 * `split(n)` and hand one child to each output; the parent settles when every child is
 * settled. Fan-in (many inputs into one output) uses `AckToken.all(tokens)`. Settling is
 * idempotent: a second ack/nack on the same token is ignored, so retries cannot double-count.
 */
export class AckToken {
  private constructor(private readonly node: Node) {}

  /** Creates the token of one source record; `onSettle` runs once when it and all descendants settle. */
  static root(onSettle: (s: Settlement) => void): AckToken {
    const node: Node = {
      pending: 1,
      settled: false,
      split: false,
      parent: null,
      root: null as unknown as Node,
      failures: null,
      onSettle,
    };
    node.root = node;
    return new AckToken(node);
  }

  /** A token that does nothing when settled: for tests and sources that need no acks. */
  static noop(): AckToken {
    return AckToken.root(() => undefined);
  }

  /** Joins several tokens: settling the result settles each of them the same way (fan-in). */
  static all(tokens: AckToken[]): AckToken {
    return AckToken.root((s) => {
      if (s.failures.length === 0) for (const t of tokens) t.ack();
      else for (const t of tokens) t.nackAll(s.failures);
    });
  }

  /** True once this token has been acked, dropped, nacked or split and all its children settled. */
  get settled(): boolean {
    return this.node.settled;
  }

  /**
   * Fans out into `n` child tokens; this token settles when every child has settled.
   * `split(0)` settles this token at once (the input produced no outputs).
   */
  split(n: number): AckToken[] {
    if (this.node.settled || this.node.split)
      throw new Error('AckToken.split: token already settled or split');
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`AckToken.split: n must be a non-negative integer, got ${n}`);
    if (n === 0) {
      this.settle();
      return [];
    }
    // This node's own pending unit is replaced by its n children.
    this.node.split = true;
    this.node.pending += n - 1;
    const children: AckToken[] = [];
    for (let i = 0; i < n; i++) {
      children.push(
        new AckToken({
          pending: 1,
          settled: false,
          split: false,
          parent: this.node,
          root: this.node.root,
          failures: null,
          onSettle: null,
        }),
      );
    }
    return children;
  }

  /** Marks the item as fully processed (its outputs are durable). */
  ack(): void {
    this.settle();
  }

  /** Marks the item as intentionally discarded (filtered out): counts as done. */
  drop(): void {
    this.settle();
  }

  /** Marks the item as failed: the root record goes to the dead letters with this failure. */
  nack(error: unknown, stage: string, stepId: string = stage): void {
    if (this.node.settled || this.node.split) return;
    const root = this.node.root;
    (root.failures ??= []).push({ stage, stepId, error: toError(error) });
    this.settle();
  }

  private nackAll(failures: Failure[]): void {
    if (this.node.settled || this.node.split) return;
    const root = this.node.root;
    (root.failures ??= []).push(...failures);
    this.settle();
  }

  private settle(): void {
    const node = this.node;
    if (node.settled || node.split) return;
    node.settled = true;
    if (node.parent === null) return settleRoot(node);
    let n: Node | null = node.parent;
    while (n) {
      n.pending -= 1;
      if (n.pending > 0) return;
      n.settled = true;
      if (n.parent === null) return settleRoot(n);
      n = n.parent;
    }
  }
}

function settleRoot(root: Node): void {
  // A fresh (short-lived) array when nothing failed: a callback that keeps or fills it shares nothing.
  root.onSettle?.({ failures: root.failures ?? [] });
}

/** Coerces anything thrown into an Error. */
export function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

/** One item flowing through a topology. */
export interface Envelope<T> {
  value: T;
  /** Stable key for compaction and deduplication downstream (PMID, `pmid:sentence-index`, ...). */
  key: string | null;
  headers: Record<string, string>;
  origin: Origin;
  traceId: string;
  ack: AckToken;
}

/** Creates an envelope with a fresh trace id unless one is given. */
export function envelope<T>(
  value: T,
  init: {
    key?: string | null;
    headers?: Record<string, string>;
    origin: Origin;
    ack: AckToken;
    traceId?: string;
  },
): Envelope<T> {
  return {
    value,
    key: init.key ?? null,
    headers: init.headers ?? {},
    origin: init.origin,
    traceId: init.traceId ?? randomUUID(),
    ack: init.ack,
  };
}

/** Derives a child envelope (same origin and trace) carrying a new value, key and token. */
export function derive<A, B>(
  parent: Envelope<A>,
  value: B,
  ack: AckToken,
  key: string | null = parent.key,
  headers: Record<string, string> = parent.headers,
): Envelope<B> {
  return { value, key, headers, origin: parent.origin, traceId: parent.traceId, ack };
}
