/**
 * When a rendition's encoder makes a keyframe (pure; the clock is passed in). Requests (a subscriber's PLI or FIR, a
 * rendition switch, a new subscriber) are answered on the next frame, but at most one forced keyframe per
 * `minIntervalMs`: requests in between are coalesced into one keyframe at the end of that interval. Between requests
 * the GOP is long (`maxIntervalMs`), which gives the bits back to picture quality.
 */
export class KeyframeGate {
  private lastKeyAt = -Infinity;
  private pendingSince?: number;
  requested = 0;
  coalesced = 0;
  forced = 0;

  constructor(
    readonly minIntervalMs = 500,
    public maxIntervalMs = 5000,
  ) {}

  /** Asks for a keyframe as soon as the rate limit allows. */
  request(nowMs: number): void {
    this.requested++;
    if (this.pendingSince !== undefined) this.coalesced++;
    else this.pendingSince = nowMs;
  }

  /** The encoder restarted: its first frame is a keyframe anyway. */
  encoderRestarted(nowMs: number): void {
    this.lastKeyAt = nowMs;
    this.pendingSince = undefined;
  }

  get pending(): boolean {
    return this.pendingSince !== undefined;
  }

  /** Called once per frame given to the encoder: should this frame be a keyframe? */
  shouldForce(nowMs: number): boolean {
    const since = nowMs - this.lastKeyAt;
    const requested = this.pendingSince !== undefined && since >= this.minIntervalMs;
    if (!requested && since < this.maxIntervalMs) return false;
    this.lastKeyAt = nowMs;
    this.pendingSince = undefined;
    this.forced++;
    return true;
  }
}
