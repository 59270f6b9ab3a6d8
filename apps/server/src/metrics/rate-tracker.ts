/**
 * Per-key rate of a growing total between two observations (e.g. the mixer's frames composed → fps between scrapes).
 * A rate needs two samples at least `minIntervalMs` apart; until then the previous rate is kept. Keys not seen in
 * a `prune` call are forgotten (closed rooms).
 */
export class RateTracker {
  private readonly last = new Map<string, { at: number; total: number; rate?: number }>();

  constructor(private readonly minIntervalMs = 500) {}

  observe(key: string, total: number, nowMs: number): number | undefined {
    const prev = this.last.get(key);
    if (!prev || total < prev.total) {
      this.last.set(key, { at: nowMs, total });
      return undefined;
    }
    if (nowMs - prev.at < this.minIntervalMs) return prev.rate;
    const rate = ((total - prev.total) * 1000) / (nowMs - prev.at);
    this.last.set(key, { at: nowMs, total, rate });
    return rate;
  }

  prune(keep: Iterable<string>): void {
    const k = new Set(keep);
    for (const key of this.last.keys()) if (!k.has(key)) this.last.delete(key);
  }
}
