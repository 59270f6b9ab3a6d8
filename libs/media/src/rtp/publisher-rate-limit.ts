/** A token bucket: `ratePerSecond` tokens come back per second, up to `capacity`; a cost is taken whole or not at all. */
export class TokenBucket {
  private tokens: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private lastMs: number,
  ) {
    this.tokens = capacity;
  }

  /** Whether `cost` tokens were there (and are now taken). */
  take(cost: number, nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSecond);
      this.lastMs = nowMs;
    }
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }
}

export interface RateLimits {
  packetsPerSecond: number;
  bytesPerSecond: number;
  /** How much above the rates a short burst (a keyframe) may go: this many seconds of each. */
  burstSeconds: number;
}

/**
 * A publisher track's packets and bytes per second, checked before anything is decoded: packets over either limit are
 * dropped (and counted). A packet dropped for its count spends no bytes.
 */
export class PacketRateLimiter {
  private readonly packets: TokenBucket;
  private readonly bytes: TokenBucket;
  dropped = 0;

  constructor(limits: RateLimits, nowMs: number) {
    this.packets = new TokenBucket(limits.packetsPerSecond, limits.packetsPerSecond * limits.burstSeconds, nowMs);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.bytesPerSecond * limits.burstSeconds, nowMs);
  }

  allow(size: number, nowMs: number): boolean {
    if (this.packets.take(1, nowMs) && this.bytes.take(size, nowMs)) return true;
    this.dropped++;
    return false;
  }
}

/**
 * What one publisher may send, far above what real clients do: Opus at its highest bitrate (510 kbps) in its shortest
 * packets (2.5 ms: 400/s) fits; so does 1080p video at 20 Mbps. A flood beyond is dropped before decoding.
 */
export const AUDIO_RATE_LIMITS: RateLimits = { packetsPerSecond: 400, bytesPerSecond: 80_000, burstSeconds: 1 };
export const VIDEO_RATE_LIMITS: RateLimits = { packetsPerSecond: 4000, bytesPerSecond: 2_500_000, burstSeconds: 2 };
