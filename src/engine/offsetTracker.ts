/**
 * Per-partition offset bookkeeping for at-least-once commits.
 *
 * Offsets are registered in the order they are emitted (increasing within a partition; gaps from
 * compaction or control records are fine). The commit point is one past the highest offset below
 * which every registered offset is acked, so nothing unfinished is ever committed.
 */
export class PartitionOffsets {
  private offsets: bigint[] = [];
  private acked: boolean[] = [];
  private head = 0;
  private committable: bigint | null = null;
  private lastCommitted: bigint | null = null;
  private first: bigint | null = null;

  /** Registers an emitted offset; it must exceed every previously registered one. */
  register(offset: bigint): number {
    const last = this.offsets[this.offsets.length - 1];
    if (last !== undefined && offset <= last)
      throw new Error(`PartitionOffsets.register: offset ${offset} not above last registered ${last}`);
    this.first ??= offset;
    this.offsets.push(offset);
    this.acked.push(false);
    return this.offsets.length - 1 + this.base;
  }

  private base = 0;

  /** Marks the record registered under `slot` as fully processed. */
  ack(slot: number): void {
    const i = slot - this.base;
    if (i < 0 || i >= this.acked.length) return;
    this.acked[i] = true;
    while (this.head < this.acked.length && this.acked[this.head]) {
      this.committable = (this.offsets[this.head] as bigint) + 1n;
      this.head += 1;
    }
    // Compact the arrays once the settled prefix dominates, so memory stays bounded by what is in flight.
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.acked = this.acked.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }

  /** The next offset to commit when it moved since the last `markCommitted`, else null. */
  pendingCommit(): bigint | null {
    if (this.committable === null || this.committable === this.lastCommitted) return null;
    return this.committable;
  }

  markCommitted(offset: bigint): void {
    if (this.lastCommitted === null || offset > this.lastCommitted) this.lastCommitted = offset;
  }

  /** One past the last registered offset (the consumer's position), or null before the first. */
  get next(): bigint | null {
    const last = this.offsets[this.offsets.length - 1];
    return last === undefined ? null : last + 1n;
  }

  /**
   * Registered offsets at or above the last commit (all of them before the first commit): what
   * replays when this partition's generation ends now. Counted by offset, so gaps make it an upper bound.
   */
  get uncommitted(): number {
    const next = this.next;
    const from = this.lastCommitted ?? this.first;
    if (next === null || from === null || next <= from) return 0;
    return Number(next - from);
  }

  /** Registered offsets not yet acked. */
  get unsettled(): number {
    return this.acked.length - this.head;
  }
}
