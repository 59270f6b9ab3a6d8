/**
 * RTP receive-side bookkeeping for the WHEP subscriber, independent of werift so it can be unit-tested:
 * - {@link RtpContinuity}: packet counts and sequence/timestamp discontinuities per track;
 * - {@link FrameAssembler}: a small jitter buffer that turns VP8 or H.264 RTP into complete frames, gated on keyframes;
 * - {@link ivfHeader}/{@link ivfFrame}: IVF framing so ffmpeg can decode VP8 from a pipe.
 */
import type { VideoCodec } from '@app/core';
import { ivfFileHeader, ivfFrameHeader } from '../../libs/media/src/rtp/ivf';

/** The subset of werift's RtpPacket used here. */
export interface RtpLike {
  header: { sequenceNumber: number; timestamp: number; marker: boolean; ssrc: number; payloadType: number };
  payload: Buffer;
}

export type { VideoCodec };

/** Signed distance a - b on the 16-bit sequence circle. */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Signed distance a - b on the 32-bit timestamp circle. */
export function tsDiff(a: number, b: number): number {
  return ((a - b) | 0) as number;
}

export interface ContinuityStats {
  packets: number;
  /** SSRCs in order of appearance. */
  ssrcs: number[];
  /** Sequence numbers that went back by more than the reordering window. */
  seqJumpsBack: number;
  /** In-order packets (seq moved forward) whose RTP timestamp went backwards. */
  tsJumpsBack: number;
  /** Packets that arrived late but within the reordering window (NACK retransmissions, reordering, duplicates). */
  reordered: number;
  /** Forward sequence jumps of more than 1, and the packets they skipped (some may arrive later). */
  seqGaps: number;
  skippedPackets: number;
  mimeType: string;
}

export class RtpContinuity {
  private lastSeq: number | undefined;
  private lastTs: number | undefined;
  private lastSsrc: number | undefined;
  readonly stats: ContinuityStats = {
    packets: 0,
    ssrcs: [],
    seqJumpsBack: 0,
    tsJumpsBack: 0,
    reordered: 0,
    seqGaps: 0,
    skippedPackets: 0,
    mimeType: '',
  };

  // The server answers NACKs from a 1024-packet history per subscriber (unwrapped from RTX by werift onto the media
  // SSRC), so a packet NACKed late, by a receiver starved for a second on a loaded machine, is legitimately up to 1024
  // back. A real renumbering lands anywhere in the 16-bit space.
  constructor(private readonly reorderWindow = 1024) {}

  add(p: RtpLike, mimeType?: string): void {
    const s = this.stats;
    s.packets++;
    if (mimeType) s.mimeType = mimeType;
    const { ssrc, sequenceNumber: seq, timestamp: ts } = p.header;
    if (!s.ssrcs.includes(ssrc)) s.ssrcs.push(ssrc);
    if (this.lastSsrc !== ssrc || this.lastSeq === undefined || this.lastTs === undefined) {
      // New stream (a change of SSRC is visible in `ssrcs`): restart the baselines.
      this.lastSsrc = ssrc;
      this.lastSeq = seq;
      this.lastTs = ts;
      return;
    }
    const d = seqDiff(seq, this.lastSeq);
    if (d <= 0) {
      if (-d <= this.reorderWindow) {
        s.reordered++;
      } else {
        s.seqJumpsBack++;
        this.lastSeq = seq; // follow the new numbering so one jump counts once
        this.lastTs = ts;
      }
      return;
    }
    if (d > 1) {
      s.seqGaps++;
      s.skippedPackets += d - 1;
    }
    if (tsDiff(ts, this.lastTs) < 0) s.tsJumpsBack++;
    this.lastSeq = seq;
    this.lastTs = ts;
  }
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/** True when this packet starts a frame (VP8: S=1 and PID=0; H.264: anything but an FU-A continuation). */
export function isFrameStart(codec: VideoCodec, payload: Buffer): boolean {
  if (payload.length < 2) return false;
  if (codec === 'vp8') return (payload[0] & 0x10) !== 0 && (payload[0] & 0x07) === 0;
  const type = payload[0] & 0x1f;
  return type !== 28 || (payload[1] & 0x80) !== 0;
}

/** Strip the VP8 payload descriptor (RFC 7741). */
export function vp8Payload(buf: Buffer): Buffer {
  let o = 1;
  if (buf[0] & 0x80) {
    const x = buf[1];
    o = 2;
    if (x & 0x80) o += buf[o] & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) o += 1; // TL0PICIDX
    if (x & 0x30) o += 1; // TID/Y/KEYIDX
  }
  return buf.subarray(o);
}

export interface AssembledFrame {
  codec: VideoCodec;
  /** VP8 frame, or H.264 access unit in Annex-B. */
  data: Buffer;
  keyframe: boolean;
  timestamp: number;
  /** VP8 keyframes only: coded size. */
  width?: number;
  height?: number;
}

/** Depacketize the packets of one frame (in sequence order). */
export function depacketize(codec: VideoCodec, packets: readonly RtpLike[]): AssembledFrame {
  const ts = packets[0]?.header.timestamp ?? 0;
  if (codec === 'vp8') {
    const data = Buffer.concat(packets.map((p) => vp8Payload(p.payload)));
    const keyframe = data.length >= 10 && (data[0] & 0x01) === 0 && data.readUIntBE(3, 3) === 0x9d012a;
    return keyframe
      ? { codec, data, keyframe, timestamp: ts, width: data.readUInt16LE(6) & 0x3fff, height: data.readUInt16LE(8) & 0x3fff }
      : { codec, data, keyframe, timestamp: ts };
  }
  const out: Buffer[] = [];
  let keyframe = false;
  const nal = (n: Buffer): void => {
    if (n.length === 0) return;
    if ((n[0] & 0x1f) === 5) keyframe = true;
    out.push(START_CODE, n);
  };
  for (const { payload: b } of packets) {
    const type = b[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      nal(b);
    } else if (type === 24) {
      for (let o = 1; o + 2 <= b.length; ) {
        const size = b.readUInt16BE(o);
        nal(b.subarray(o + 2, o + 2 + size));
        o += 2 + size;
      }
    } else if (type === 28 && b.length > 2) {
      if (b[1] & 0x80) {
        const header = (b[0] & 0xe0) | (b[1] & 0x1f);
        if ((header & 0x1f) === 5) keyframe = true;
        out.push(START_CODE, Buffer.from([header]));
      }
      out.push(b.subarray(2));
    }
  }
  return { codec, data: Buffer.concat(out), keyframe, timestamp: ts };
}

interface Pending {
  ts: number;
  packets: Map<number, RtpLike>;
  markerSeq?: number;
  firstSeenAt: number;
}

export interface AssemblerStats {
  framesEmitted: number;
  keyframesEmitted: number;
  /** Frames given up on (incomplete) and complete frames skipped while waiting for a keyframe. */
  framesDropped: number;
  latePackets: number;
}

/**
 * Collects RTP packets per timestamp and emits complete frames in timestamp order. A frame still incomplete when
 * `maxPending` newer frames are waiting, or after `maxWaitMs`, is dropped; after a drop (and at the start) only a
 * keyframe is emitted next (`needKeyframe` tells the owner to send a PLI).
 */
export class FrameAssembler {
  private pending: Pending[] = [];
  private lastTs: number | undefined;
  private lastEndSeq: number | undefined;
  needKeyframe = true;
  readonly stats: AssemblerStats = { framesEmitted: 0, keyframesEmitted: 0, framesDropped: 0, latePackets: 0 };

  constructor(
    private readonly codec: VideoCodec,
    private readonly onFrame: (f: AssembledFrame) => void,
    private readonly maxPending = 4,
    private readonly maxWaitMs = 500,
  ) {}

  push(p: RtpLike, now: number): void {
    const { timestamp: ts, sequenceNumber: seq } = p.header;
    if (this.lastTs !== undefined && tsDiff(ts, this.lastTs) <= 0) {
      this.stats.latePackets++;
      return;
    }
    let i = this.pending.length - 1;
    while (i >= 0 && tsDiff(this.pending[i].ts, ts) > 0) i--;
    let f = i >= 0 ? this.pending[i] : undefined;
    if (!f || f.ts !== ts) {
      f = { ts, packets: new Map(), firstSeenAt: now };
      this.pending.splice(i + 1, 0, f);
    }
    f.packets.set(seq, p);
    if (p.header.marker) f.markerSeq = seq;
    this.drain(now);
  }

  /** Drop frames that waited too long (call periodically when packets stop). */
  poll(now: number): void {
    this.drain(now);
  }

  private ordered(f: Pending): RtpLike[] | undefined {
    if (f.markerSeq === undefined) return undefined;
    let start: number;
    if (this.lastEndSeq !== undefined) {
      start = (this.lastEndSeq + 1) & 0xffff;
    } else {
      start = f.markerSeq;
      for (const s of f.packets.keys()) if (seqDiff(s, start) < 0) start = s;
    }
    const n = seqDiff(f.markerSeq, start) + 1;
    if (n <= 0 || n > 4096) return undefined;
    const out: RtpLike[] = [];
    for (let k = 0; k < n; k++) {
      const p = f.packets.get((start + k) & 0xffff);
      if (!p) return undefined;
      out.push(p);
    }
    if (!isFrameStart(this.codec, out[0].payload)) return undefined;
    return out;
  }

  private drain(now: number): void {
    while (this.pending.length > 0) {
      const f = this.pending[0];
      const packets = this.ordered(f);
      if (packets) {
        this.pending.shift();
        this.lastTs = f.ts;
        this.lastEndSeq = f.markerSeq;
        const frame = depacketize(this.codec, packets);
        if (this.needKeyframe && !frame.keyframe) {
          this.stats.framesDropped++;
          continue;
        }
        this.needKeyframe = false;
        this.stats.framesEmitted++;
        if (frame.keyframe) this.stats.keyframesEmitted++;
        this.onFrame(frame);
        continue;
      }
      if (this.pending.length > this.maxPending || now - f.firstSeenAt > this.maxWaitMs) {
        this.pending.shift();
        this.lastTs = f.ts;
        this.lastEndSeq = undefined;
        this.needKeyframe = true;
        this.stats.framesDropped++;
        continue;
      }
      return;
    }
  }
}

/** 32-byte IVF file header for VP8 (the server's own framing, shared). */
export const ivfHeader = (width: number, height: number, rate = 30): Buffer => ivfFileHeader(width, height, rate);

/** 12-byte IVF frame header followed by the frame. */
export const ivfFrame = (data: Buffer, pts: number): Buffer => Buffer.concat([ivfFrameHeader(data.length, pts), data]);
