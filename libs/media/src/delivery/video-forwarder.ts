import { rtpSeq, rtpTimestamp } from '../rtp/rtp-bytes';

/** A packet as it goes to one subscriber: the shared encoder packet and this subscriber's sequence number and timestamp. */
export interface Forwarded {
  buf: Buffer;
  seq: number;
  ts: number;
  /** When it was first sent, and last retransmitted (the caller's clock). */
  at: number;
  rtxAt?: number;
}

const HISTORY = 1024; // ≥ 1 s of high at several Mbps

/**
 * One subscriber's video stream out of the ladder's renditions (pure; the clock is passed in). It forwards the packets
 * of its current rendition; a switch happens only at a keyframe of the target rendition, and from then on the packets
 * of the target are renumbered so that the subscriber sees one stream: sequence numbers +1, timestamps advancing by the
 * wall time between the two packets (no renegotiation, no decoder reset beyond the keyframe). Sent packets are kept for
 * answering NACKs.
 */
export class VideoForwarder {
  private cur?: string;
  private tgt: string | null;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq: number;
  private lastTs: number;
  private lastAtMs?: number;
  private readonly history: Array<Forwarded | undefined> = new Array(HISTORY);
  switches = 0;

  constructor(
    initial: string | null,
    initialSeq = Math.floor(Math.random() * 0x8000),
    initialTs = Math.floor(Math.random() * 0x7fffffff),
  ) {
    this.tgt = initial;
    this.lastSeq = (initialSeq - 1) & 0xffff;
    this.lastTs = initialTs >>> 0;
  }

  /** The rendition being forwarded (undefined: none yet, or paused). */
  get current(): string | undefined {
    return this.cur;
  }

  /** The rendition wanted (null: video paused). */
  get target(): string | null {
    return this.tgt;
  }

  /** Waiting for a keyframe of the target to switch (or to start). */
  get switching(): boolean {
    return this.tgt !== null && this.tgt !== this.cur;
  }

  setTarget(r: string | null): void {
    this.tgt = r;
    if (r === null) this.cur = undefined; // paused at once: audio only
  }

  /** A packet of rendition `r`: returns it with this subscriber's numbering if it is to be sent, else undefined. */
  forward(r: string, buf: Buffer, keyframeStart: boolean, nowMs: number): Forwarded | undefined {
    if (r !== this.cur) {
      if (r !== this.tgt || !keyframeStart) return undefined;
      // switch (or start, or resume) here: continue numbering from the last packet sent
      const elapsed = this.lastAtMs === undefined ? 0 : Math.max(1, Math.round((nowMs - this.lastAtMs) * 90));
      this.seqOffset = ((this.lastSeq + 1 - rtpSeq(buf)) & 0xffff) >>> 0;
      this.tsOffset = (this.lastTs + elapsed - rtpTimestamp(buf)) >>> 0;
      if (this.cur !== undefined) this.switches++;
      this.cur = r;
    }
    const seq = (rtpSeq(buf) + this.seqOffset) & 0xffff;
    const ts = (rtpTimestamp(buf) + this.tsOffset) >>> 0;
    this.lastSeq = seq;
    this.lastTs = ts;
    this.lastAtMs = nowMs;
    const f: Forwarded = { buf, seq, ts, at: nowMs };
    this.history[seq % HISTORY] = f;
    return f;
  }

  /** The `n`-th newest packet sent (0: the last one), if the history still has it. */
  recent(n: number): Forwarded | undefined {
    return this.lookup((this.lastSeq - n) & 0xffff);
  }

  /** The packet sent with sequence number `seq`, if it is still in the history. */
  lookup(seq: number): Forwarded | undefined {
    const f = this.history[seq % HISTORY];
    return f && f.seq === seq ? f : undefined;
  }
}
