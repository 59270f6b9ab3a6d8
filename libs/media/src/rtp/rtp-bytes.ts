/**
 * Pure helpers on raw RTP packets (RFC 3550), working on bytes so the fan-out path never re-parses or allocates objects.
 */
import type { VideoCodec } from '@app/core';

export const RTP_MIN_HEADER = 12;

export function isRtp(buf: Buffer): boolean {
  return buf.length >= RTP_MIN_HEADER && buf[0] >> 6 === 2;
}

export const rtpSeq = (buf: Buffer): number => buf.readUInt16BE(2);
export const rtpTimestamp = (buf: Buffer): number => buf.readUInt32BE(4);
export const rtpSsrc = (buf: Buffer): number => buf.readUInt32BE(8);
export const rtpMarker = (buf: Buffer): boolean => (buf[1] & 0x80) !== 0;

/** Offset of the payload (after CSRCs and the header extension), or -1 if the packet is malformed. */
export function rtpPayloadOffset(buf: Buffer): number {
  if (!isRtp(buf)) return -1;
  let off = RTP_MIN_HEADER + 4 * (buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (buf.length < off + 4) return -1;
    off += 4 + 4 * buf.readUInt16BE(off + 2);
  }
  return off <= buf.length ? off : -1;
}

/** Does this packet start a keyframe (H.264: IDR or SPS; VP8: first partition of a key frame)? */
export function startsKeyframe(buf: Buffer, codec: VideoCodec): boolean {
  const off = rtpPayloadOffset(buf);
  if (off < 0 || off >= buf.length) return false;
  const p = buf.subarray(off);
  if (codec === 'h264') {
    const type = p[0] & 0x1f;
    if (type === 5 || type === 7) return true;
    if (type === 24) {
      // STAP-A: [hdr][size16][nalu]...
      let i = 1;
      while (i + 2 < p.length) {
        const size = p.readUInt16BE(i);
        const t = p[i + 2] & 0x1f;
        if (t === 5 || t === 7) return true;
        i += 2 + size;
      }
      return false;
    }
    if (type === 28 && p.length > 1) return (p[1] & 0x80) !== 0 && ((p[1] & 0x1f) === 5 || (p[1] & 0x1f) === 7);
    return false;
  }
  const i = vp8DescriptorLength(p);
  if (!vp8StartsFrame(p) || i < 0 || i >= p.length) return false;
  return (p[i] & 0x01) === 0; // P bit of the VP8 payload header: 0 = key frame
}

/** Length of the VP8 payload descriptor at the start of an RTP payload (RFC 7741 §4.2), or -1 if truncated. */
export function vp8DescriptorLength(p: Buffer): number {
  if (p.length < 1) return -1;
  let i = 1;
  if (p[0] & 0x80) {
    if (p.length < 2) return -1;
    const ext = p[i++];
    if (ext & 0x80) i += i < p.length && p[i] & 0x80 ? 2 : 1; // PictureID
    if (ext & 0x40) i++; // TL0PICIDX
    if (ext & 0x30) i++; // TID/KEYIDX
  }
  return i <= p.length ? i : -1;
}

/** Does this VP8 RTP payload start a frame (S bit set, partition 0)? */
export const vp8StartsFrame = (p: Buffer): boolean => p.length > 0 && (p[0] & 0x10) !== 0 && (p[0] & 0x07) === 0;

/**
 * Keeps one outgoing RTP stream continuous (sequence numbers and timestamps never jump back) while its source restarts
 * (a new ffmpeg encoder starts from random numbers). Rewrites packets in place.
 */
export class RtpContinuity {
  private seqOffset = 0;
  private tsOffset = 0;
  private lastOutSeq: number;
  private lastOutTs: number;
  private lastAtMs = 0;
  private srcSsrc?: number;
  private needResync = true;
  private started = false;

  constructor(
    private readonly clockRate: number,
    readonly ssrc: number,
    initialSeq = Math.floor(Math.random() * 0x8000),
    initialTs = Math.floor(Math.random() * 0x7fffffff),
  ) {
    this.lastOutSeq = (initialSeq - 1) & 0xffff;
    this.lastOutTs = initialTs >>> 0;
  }

  /** Call when the source restarted: the next packet continues from the last one sent. */
  markDiscontinuity(): void {
    this.needResync = true;
  }

  /** Rewrites seq/ts/ssrc of `buf` in place and returns it. `nowMs` is a monotonic clock. */
  rewrite(buf: Buffer, nowMs: number): Buffer {
    const seq = rtpSeq(buf);
    const ts = rtpTimestamp(buf);
    const ssrc = rtpSsrc(buf);
    if (this.srcSsrc !== ssrc) this.needResync = true;
    if (this.needResync) {
      const elapsed = this.started ? Math.max(1, Math.round(((nowMs - this.lastAtMs) * this.clockRate) / 1000)) : 0;
      const outSeq = (this.lastOutSeq + 1) & 0xffff;
      const outTs = (this.lastOutTs + elapsed) >>> 0;
      this.seqOffset = (outSeq - seq) & 0xffff;
      this.tsOffset = (outTs - ts) >>> 0;
      this.srcSsrc = ssrc;
      this.needResync = false;
    }
    this.started = true;
    const outSeq = (seq + this.seqOffset) & 0xffff;
    const outTs = (ts + this.tsOffset) >>> 0;
    buf.writeUInt16BE(outSeq, 2);
    buf.writeUInt32BE(outTs, 4);
    buf.writeUInt32BE(this.ssrc >>> 0, 8);
    this.lastOutSeq = outSeq;
    this.lastOutTs = outTs;
    this.lastAtMs = nowMs;
    return buf;
  }
}

/** Builds a minimal RTP packet (no CSRC, no extension). */
export function buildRtp(o: { payloadType: number; seq: number; timestamp: number; ssrc: number; marker?: boolean; payload: Buffer }): Buffer {
  const buf = Buffer.allocUnsafe(RTP_MIN_HEADER + o.payload.length);
  buf[0] = 0x80;
  buf[1] = (o.marker ? 0x80 : 0) | (o.payloadType & 0x7f);
  buf.writeUInt16BE(o.seq & 0xffff, 2);
  buf.writeUInt32BE(o.timestamp >>> 0, 4);
  buf.writeUInt32BE(o.ssrc >>> 0, 8);
  o.payload.copy(buf, RTP_MIN_HEADER);
  return buf;
}

/** Signed distance a→b on the 16-bit sequence circle. */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

/** NAL unit types in an H.264 Annex-B byte stream (after each 00 00 01 / 00 00 00 01 start code). */
export function annexBNalTypes(buf: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      types.push(buf[i + 3] & 0x1f);
      i += 3;
    }
  }
  return types;
}

/** Is this Annex-B access unit a keyframe (has an IDR slice)? werift misses IDRs that arrive in STAP-A packets. */
export const annexBIsKeyframe = (buf: Buffer): boolean => annexBNalTypes(buf).includes(5);
