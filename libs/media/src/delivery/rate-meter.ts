/** Bytes per second over a sliding window of fixed buckets (pure; the clock is passed in). */
export class RateMeter {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  constructor(
    private readonly windowMs = 1000,
    private readonly bucketMs = 100,
  ) {
    const n = Math.ceil(windowMs / bucketMs);
    this.buckets = new Float64Array(n);
    this.stamps = new Float64Array(n).fill(-Infinity);
  }

  add(bytes: number, nowMs: number): void {
    const slot = Math.floor(nowMs / this.bucketMs);
    const i = slot % this.buckets.length;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.buckets[i] = 0;
    }
    this.buckets[i] += bytes;
  }

  /** kbps over the window that ends now. */
  kbps(nowMs: number): number {
    const slot = Math.floor(nowMs / this.bucketMs);
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (slot - this.stamps[i] < this.buckets.length) sum += this.buckets[i];
    return (sum * 8) / this.windowMs;
  }
}

/**
 * A token bucket in bytes: what retransmissions may spend. Refilled at `kbps`, holding at most `burstMs` worth.
 */
export class ByteBudget {
  private tokens = 0;
  private lastMs?: number;
  kbps = 0;

  constructor(private readonly burstMs = 500) {}

  take(bytes: number, nowMs: number): boolean {
    const cap = (this.kbps * this.burstMs) / 8;
    this.tokens = Math.min(cap, this.tokens + (this.lastMs === undefined ? cap : ((nowMs - this.lastMs) * this.kbps) / 8));
    this.lastMs = nowMs;
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}
