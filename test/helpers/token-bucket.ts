/**
 * The pure core of the shaped link: a token-bucket bottleneck with a drop-tail queue, optional random loss and an
 * optional fixed extra delay. No timers and no clock of its own: every call takes `now` (ms, e.g. performance.now()),
 * so tests drive it with made-up times and get exact answers.
 *
 *   offer() --random loss--> drop-tail queue (bounded in ms at the current rate) --token bucket--> delay line --> poll()
 *
 * Departure times are computed exactly (when the bucket had enough tokens), not when poll() happens to run, so a late
 * timer delivers a small burst but the long-run rate stays exact.
 */

export interface TokenBucketOptions {
  /** Bottleneck rate in kbit/s (1 kbit = 1000 bit). Infinity = no limit. */
  rateKbps: number;
  /** Drop-tail limit: the queue holds at most this many ms of data at the current rate (default 250). */
  queueMs?: number;
  /** Bucket depth in bytes: what may leave back to back after an idle spell (default 1500, one packet). */
  burstBytes?: number;
  /** Random loss before the queue, 0-100 (default 0). */
  lossPercent?: number;
  /** Fixed extra delay after the bottleneck, ms (default 0). */
  delayMs?: number;
  /** Seed of the loss RNG (default 1): the same seed and offers give the same losses. */
  seed?: number;
}

export interface TokenBucketStats {
  offeredPackets: number;
  offeredBytes: number;
  forwardedPackets: number;
  forwardedBytes: number;
  droppedQueuePackets: number;
  droppedQueueBytes: number;
  droppedLossPackets: number;
  droppedLossBytes: number;
  /** Waiting for tokens now (not counting the delay line). */
  queuedPackets: number;
  queuedBytes: number;
  /** Longest time a packet waited for tokens (ms). */
  maxQueueDelayMs: number;
  rateKbps: number;
  lossPercent: number;
}

export type OfferResult = 'queued' | 'dropped-loss' | 'dropped-queue';

interface Queued<T> {
  item: T;
  bytes: number;
  at: number;
}

interface Departed<T> {
  item: T;
  deliverAt: number;
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class TokenBucketQueue<T> {
  private rateBytesPerMs: number;
  private readonly queueMs: number;
  private readonly burstBytes: number;
  private lossPercent: number;
  private delayMs: number;
  private readonly random: () => number;
  private readonly queue: Queued<T>[] = [];
  private queueHead = 0;
  private readonly delayLine: Departed<T>[] = [];
  private delayHead = 0;
  private tokens: number;
  private clock: number | undefined;
  private readonly counters = {
    offeredPackets: 0,
    offeredBytes: 0,
    forwardedPackets: 0,
    forwardedBytes: 0,
    droppedQueuePackets: 0,
    droppedQueueBytes: 0,
    droppedLossPackets: 0,
    droppedLossBytes: 0,
    queuedBytes: 0,
    maxQueueDelayMs: 0,
  };

  constructor(opts: TokenBucketOptions) {
    this.rateBytesPerMs = TokenBucketQueue.bytesPerMs(opts.rateKbps);
    this.queueMs = opts.queueMs ?? 250;
    this.burstBytes = opts.burstBytes ?? 1500;
    this.lossPercent = TokenBucketQueue.percent(opts.lossPercent ?? 0);
    this.delayMs = Math.max(0, opts.delayMs ?? 0);
    this.random = seededRandom(opts.seed ?? 1);
    this.tokens = this.burstBytes;
  }

  private static bytesPerMs(kbps: number): number {
    if (!(kbps > 0)) throw new Error(`TokenBucketQueue: rate must be > 0 kbps (got ${kbps})`);
    return kbps / 8; // kbit/s = 1000 bit/s = 125 B/s = 0.125 B/ms
  }

  private static percent(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new Error(`TokenBucketQueue: loss must be 0-100 % (got ${p})`);
    return p;
  }

  get rateKbps(): number {
    return this.rateBytesPerMs * 8;
  }

  /** Bytes the queue may hold at the current rate (at least one packet is always accepted into an empty queue). */
  get queueLimitBytes(): number {
    return this.rateBytesPerMs * this.queueMs;
  }

  /** Packets that left the bucket and wait only for their extra delay. */
  get inDelayLine(): number {
    return this.delayLine.length - this.delayHead;
  }

  get queuedPackets(): number {
    return this.queue.length - this.queueHead;
  }

  /** Offer a packet of `bytes` at `now`: lost at random, dropped at the tail of a full queue, or queued. */
  offer(item: T, bytes: number, now: number): OfferResult {
    this.drain(now);
    const c = this.counters;
    c.offeredPackets++;
    c.offeredBytes += bytes;
    if (this.lossPercent > 0 && this.random() * 100 < this.lossPercent) {
      c.droppedLossPackets++;
      c.droppedLossBytes += bytes;
      return 'dropped-loss';
    }
    if (this.queuedPackets > 0 && c.queuedBytes + bytes > this.queueLimitBytes) {
      c.droppedQueuePackets++;
      c.droppedQueueBytes += bytes;
      return 'dropped-queue';
    }
    this.queue.push({ item, bytes, at: now });
    c.queuedBytes += bytes;
    this.drain(now);
    return 'queued';
  }

  /** Everything due for delivery at `now`, oldest first. */
  poll(now: number): T[] {
    this.drain(now);
    const out: T[] = [];
    while (this.delayHead < this.delayLine.length && this.delayLine[this.delayHead].deliverAt <= now) {
      out.push(this.delayLine[this.delayHead++].item);
    }
    if (this.delayHead > 1024 && this.delayHead * 2 > this.delayLine.length) {
      this.delayLine.splice(0, this.delayHead);
      this.delayHead = 0;
    }
    return out;
  }

  /** When poll() next has something to return (undefined when idle). */
  nextEventAt(): number | undefined {
    let next: number | undefined;
    if (this.delayHead < this.delayLine.length) next = this.delayLine[this.delayHead].deliverAt;
    if (this.queuedPackets > 0 && this.clock !== undefined) {
      const head = this.queue[this.queueHead];
      const ready = this.clock + Math.max(0, head.bytes - this.tokens) / this.rateBytesPerMs + this.delayMs;
      next = next === undefined ? ready : Math.min(next, ready);
    }
    return next;
  }

  /** Change the rate from `now` on (what left before `now` left at the old rate). */
  setRateKbps(kbps: number, now: number): void {
    const rate = TokenBucketQueue.bytesPerMs(kbps);
    this.drain(now);
    this.rateBytesPerMs = rate;
  }

  setLossPercent(p: number): void {
    this.lossPercent = TokenBucketQueue.percent(p);
  }

  /** Applies to packets leaving the bucket from now on. */
  setDelayMs(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  stats(): TokenBucketStats {
    const { queuedBytes, ...rest } = this.counters;
    return {
      ...rest,
      queuedPackets: this.queuedPackets,
      queuedBytes,
      rateKbps: this.rateKbps,
      lossPercent: this.lossPercent,
    };
  }

  /** Move every packet whose tokens were available by `now` from the queue to the delay line, at its exact time. */
  private drain(now: number): void {
    let clock = this.clock ?? now;
    if (now < clock) now = clock; // time never goes back
    const c = this.counters;
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead];
      // The bucket never holds less than one packet's worth, so a packet bigger than the burst still passes.
      const cap = Math.max(this.burstBytes, head.bytes);
      const missing = head.bytes - this.tokens;
      const readyAt: number = missing <= 0 ? clock : clock + missing / this.rateBytesPerMs;
      if (readyAt > now) break;
      this.tokens = Math.min(cap, this.tokens + this.gain(readyAt - clock)) - head.bytes;
      clock = readyAt;
      this.queueHead++;
      c.queuedBytes -= head.bytes;
      c.forwardedPackets++;
      c.forwardedBytes += head.bytes;
      c.maxQueueDelayMs = Math.max(c.maxQueueDelayMs, readyAt - head.at);
      this.delayLine.push({ item: head.item, deliverAt: readyAt + this.delayMs });
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    // While an oversized packet waits, its tokens may pile up beyond the burst.
    const waiting = this.queue[this.queueHead] as Queued<T> | undefined;
    const cap = waiting ? Math.max(this.burstBytes, waiting.bytes) : this.burstBytes;
    this.tokens = Math.min(cap, this.tokens + this.gain(now - clock));
    this.clock = now;
  }

  /** Tokens earned in `ms` (0 for no time, so an infinite rate gives no NaN). */
  private gain(ms: number): number {
    return ms > 0 ? ms * this.rateBytesPerMs : 0;
  }
}
