/** A fixed-capacity ring: pushing past capacity drops the oldest item, so memory stays bounded. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Ring capacity must be >= 1, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** Appends one item, overwriting the oldest once full. */
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  /** The items held, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = this.size < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }

  get length(): number {
    return this.size;
  }
}
