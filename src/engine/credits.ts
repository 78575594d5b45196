/** Credit-based backpressure: at most `maxInFlight` unsettled records, pause at high water, resume at low. */
export class CreditGate {
  private inFlight = 0;
  private paused = false;
  private peak = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly maxInFlight: number,
    readonly lowWater: number = Math.floor(maxInFlight / 2),
    private readonly onPause: () => void = () => undefined,
    private readonly onResume: () => void = () => undefined,
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`CreditGate: maxInFlight must be a positive integer, got ${maxInFlight}`);
    if (!Number.isInteger(lowWater) || lowWater < 0 || lowWater >= maxInFlight)
      throw new RangeError(`CreditGate: lowWater must be an integer in [0, maxInFlight), got ${lowWater}`);
  }

  /** Records currently emitted and not settled. */
  get current(): number {
    return this.inFlight;
  }

  /** Highest in-flight count seen. */
  get peakInFlight(): number {
    return this.peak;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** True when a credit is available right now. */
  get available(): boolean {
    return this.inFlight < this.maxInFlight;
  }

  /** Takes one credit; callers must check `available` (or await `waitForCredit`) first. */
  take(): void {
    if (this.inFlight >= this.maxInFlight)
      throw new Error(`CreditGate.take: no credit left (maxInFlight=${this.maxInFlight})`);
    this.inFlight += 1;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    if (this.inFlight >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.onPause();
    }
  }

  /** Returns one credit (the record settled). */
  release(): void {
    if (this.inFlight <= 0) throw new Error('CreditGate.release: more releases than takes');
    this.inFlight -= 1;
    if (this.paused && this.inFlight <= this.lowWater) {
      this.paused = false;
      this.onResume();
    }
    if (this.inFlight < this.maxInFlight && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves when a credit is available, or after `timeoutMs` (so callers can heartbeat); true if available. */
  waitForCredit(timeoutMs: number): Promise<boolean> {
    if (this.available) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(this.available);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(this.available);
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  /** Resolves once nothing is in flight, or after `timeoutMs`; true when drained. */
  async drain(timeoutMs: number, pollMs = 20): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
    return this.inFlight === 0;
  }
}
