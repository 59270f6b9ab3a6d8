/**
 * What transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions) says about one
 * subscriber's downlink (pure; times are passed in). Every packet we send carries a transport-wide sequence number;
 * the receiver reports which arrived and when (its own clock). From that: the rate that got through, the share lost,
 * and how much the bottleneck's queue has grown (one-way delay above the smallest seen recently).
 */
export interface TwccWindow {
  /** Rate at which the reported packets were sent, and at which those that arrived were received (kbps). */
  sentKbps: number;
  receivedKbps: number;
  /** Share of reported packets that never arrived (0..1). */
  loss: number;
  /** Median one-way delay of the newest packets above the lowest delay of the last 10 s (ms): queueing. */
  queueDelayMs: number;
  packets: number;
}

/** One feedback entry: a transport-wide sequence number, and when it arrived (receiver's clock, ms) or undefined if lost. */
export interface TwccResult {
  seq: number;
  receivedAtMs?: number;
}

interface Reported {
  sentAt: number;
  size: number;
  /** Receiver clock ms, or NaN when lost. */
  recvAt: number;
  reportedAt: number;
}

const RING = 1 << 16;

export class TwccTracker {
  private readonly sentAt = new Float64Array(RING).fill(NaN);
  private readonly size = new Uint16Array(RING);
  private reported: Reported[] = [];
  private head = 0;
  /** Lowest one-way delay (receiver clock minus send clock) seen within `baseWindowMs`, as [time, delay] minima. */
  private minDelays: Array<[number, number]> = [];
  lastFeedbackAt = -Infinity;

  constructor(
    private readonly windowMs = 1000,
    private readonly baseWindowMs = 10_000,
  ) {}

  sent(seq: number, bytes: number, nowMs: number): void {
    const i = seq & 0xffff;
    this.sentAt[i] = nowMs;
    this.size[i] = Math.min(bytes, 0xffff);
  }

  feedback(results: readonly TwccResult[], nowMs: number): void {
    this.lastFeedbackAt = nowMs;
    for (const r of results) {
      const i = r.seq & 0xffff;
      const sentAt = this.sentAt[i];
      if (Number.isNaN(sentAt) || nowMs - sentAt > 5000) continue; // unknown, or an old number reused after a wrap
      this.sentAt[i] = NaN; // reported once
      const recvAt = r.receivedAtMs ?? NaN;
      this.reported.push({ sentAt, size: this.size[i], recvAt, reportedAt: nowMs });
      if (!Number.isNaN(recvAt)) this.noteDelay(nowMs, recvAt - sentAt);
    }
    this.prune(nowMs);
  }

  private noteDelay(nowMs: number, d: number): void {
    const m = this.minDelays;
    while (m.length && m[m.length - 1][1] >= d) m.pop(); // a monotonic queue of minima
    m.push([nowMs, d]);
    while (m.length && nowMs - m[0][0] > this.baseWindowMs) m.shift();
  }

  private prune(nowMs: number): void {
    while (this.head < this.reported.length && nowMs - this.reported[this.head].reportedAt > this.windowMs) this.head++;
    if (this.head > 1024) {
      this.reported = this.reported.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The packets reported in the last `windowMs` (and sent at or after `sinceMs`: what was sent before a change of rate
   * says nothing about the new one), summed up; undefined when fewer than `minPackets` are left.
   */
  window(nowMs: number, minPackets = 10, sinceMs = -Infinity): TwccWindow | undefined {
    this.prune(nowMs);
    let first = this.head;
    while (first < this.reported.length && this.reported[first].sentAt < sinceMs) first++;
    const n = this.reported.length - first;
    if (n < minPackets) return undefined;
    let sentBytes = 0;
    let recvBytes = 0;
    let lost = 0;
    let firstSent = Infinity;
    let lastSent = -Infinity;
    let firstRecv = Infinity;
    let lastRecv = -Infinity;
    let newestSent = -Infinity;
    for (let i = first; i < this.reported.length; i++) {
      const p = this.reported[i];
      sentBytes += p.size;
      firstSent = Math.min(firstSent, p.sentAt);
      lastSent = Math.max(lastSent, p.sentAt);
      if (Number.isNaN(p.recvAt)) {
        lost++;
        continue;
      }
      recvBytes += p.size;
      firstRecv = Math.min(firstRecv, p.recvAt);
      lastRecv = Math.max(lastRecv, p.recvAt);
      newestSent = Math.max(newestSent, p.sentAt);
    }
    // the newest 200 ms of arrivals tell the current queue
    const recent: number[] = [];
    for (let i = first; i < this.reported.length; i++) {
      const p = this.reported[i];
      if (!Number.isNaN(p.recvAt) && newestSent - p.sentAt <= 200) recent.push(p.recvAt - p.sentAt);
    }
    recent.sort((a, b) => a - b);
    const base = this.minDelays.length ? this.minDelays[0][1] : 0;
    const median = recent.length ? recent[recent.length >> 1] : base;
    const kbps = (bytes: number, spanMs: number) => (bytes * 8) / Math.max(spanMs, 50);
    return {
      sentKbps: kbps(sentBytes, lastSent - firstSent),
      receivedKbps: recvBytes ? kbps(recvBytes, lastRecv - firstRecv) : 0,
      loss: lost / n,
      queueDelayMs: Math.max(0, median - base),
      packets: n,
    };
  }
}
