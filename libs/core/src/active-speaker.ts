/** Tuning of the active speaker choice. Levels are RMS amplitudes from 0 to 1 (full scale). */
export interface ActiveSpeakerOptions {
  /** Below this smoothed level nobody is speaking (0.01 ≈ -40 dBFS). */
  threshold: number;
  /** A challenger must be the loudest, above the threshold, this long before it takes over. */
  minSpeakMs: number;
  /** The active speaker keeps the floor at least this long after taking it. */
  holdMs: number;
  /** Smoothing time constant of the levels. */
  smoothingMs: number;
}

export const DEFAULT_ACTIVE_SPEAKER: ActiveSpeakerOptions = { threshold: 0.01, minSpeakMs: 300, holdMs: 1500, smoothingMs: 150 };

/**
 * Chooses the active speaker from audio levels sampled over time: the loudest identity above a threshold for a minimum
 * time takes the floor, and keeps it for a hold time so the layout does not flicker. Silence keeps the last speaker.
 * Pure: the caller supplies the clock.
 */
export class ActiveSpeakerDetector {
  private readonly smoothed = new Map<string, number>();
  private active?: string;
  private activeSince = -Infinity;
  private challenger?: string;
  private challengerSince = 0;
  private lastAt?: number;

  constructor(private readonly o: ActiveSpeakerOptions = DEFAULT_ACTIVE_SPEAKER) {}

  get current(): string | undefined {
    return this.active;
  }

  /** Smoothed level per identity, as last updated. */
  levels(): ReadonlyMap<string, number> {
    return this.smoothed;
  }

  /**
   * Feeds the levels measured at time `now` (ms); identities missing from `levels` are gone. Returns the new active
   * speaker when it changed (undefined when the active one left and nobody took over), else `null`.
   */
  update(levels: ReadonlyMap<string, number>, now: number): string | undefined | null {
    const dt = this.lastAt === undefined ? this.o.smoothingMs : Math.max(0, now - this.lastAt);
    this.lastAt = now;
    const alpha = Math.min(1, dt / this.o.smoothingMs);
    for (const id of this.smoothed.keys()) if (!levels.has(id)) this.smoothed.delete(id); // deleting while iterating a Map is safe
    for (const [id, level] of levels) {
      const prev = this.smoothed.get(id) ?? 0;
      this.smoothed.set(id, prev + (level - prev) * alpha);
    }
    if (this.active !== undefined && !levels.has(this.active)) {
      this.active = undefined;
      this.activeSince = -Infinity;
      const next = this.loudest();
      if (next) this.take(next, now);
      return this.active;
    }
    // the loudest by smoothed level, but only while it is actually sounding now (smoothing must not stretch a burst)
    const candidate = this.loudest();
    const loudest = candidate !== undefined && (levels.get(candidate) ?? 0) > this.o.threshold ? candidate : undefined;
    if (!loudest || loudest === this.active) {
      this.challenger = undefined;
      return null;
    }
    if (loudest !== this.challenger) {
      this.challenger = loudest;
      this.challengerSince = now;
    }
    const heldLongEnough = now - this.activeSince >= this.o.holdMs;
    const spokeLongEnough = now - this.challengerSince >= this.o.minSpeakMs;
    if (this.active === undefined ? spokeLongEnough : heldLongEnough && spokeLongEnough) {
      this.take(loudest, now);
      return loudest;
    }
    return null;
  }

  private take(id: string, now: number): void {
    this.active = id;
    this.activeSince = now;
    this.challenger = undefined;
  }

  private loudest(): string | undefined {
    let best: string | undefined;
    let bestLevel = this.o.threshold;
    for (const [id, l] of this.smoothed) {
      if (l > bestLevel) {
        best = id;
        bestLevel = l;
      }
    }
    return best;
  }
}
