import type { VideoCodec } from '@app/core';
import type { RtpHeader, RtpPacket } from 'werift';
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard';
import type { EncodedFrame } from '../mixer/video-input';
import { annexBIsKeyframe, vp8DescriptorLength, vp8StartsFrame } from './rtp-bytes';

/**
 * VP8 RTP payloads (in order, from the jitter buffer) → frames, on bytes: strips each payload descriptor and joins
 * a frame's payloads at the marker bit. A frame whose start was not seen or that misses a packet is dropped (the
 * decoder would only show it broken). werift's depacketizer parses every descriptor bit by bit into objects.
 */
export class Vp8Depacketizer {
  private parts: Buffer[] = [];
  private bytes = 0;
  private keyframe = false;
  private inFrame = false;
  private lastSeq = -1;

  /** The frame this packet completes, if any. */
  push(payload: Buffer, seq: number, marker: boolean): { data: Buffer; isKeyframe: boolean } | undefined {
    const off = vp8DescriptorLength(payload);
    const contiguous = this.lastSeq >= 0 && seq === ((this.lastSeq + 1) & 0xffff);
    this.lastSeq = seq;
    if (off < 0) {
      this.inFrame = false;
      return undefined;
    }
    if (vp8StartsFrame(payload)) {
      this.parts = [];
      this.bytes = 0;
      this.keyframe = off < payload.length && (payload[off] & 0x01) === 0; // P bit of the VP8 payload header
      this.inFrame = true;
    } else if (!contiguous) {
      this.inFrame = false; // lost the packet before: wait for the next frame's start
    }
    if (!this.inFrame) return undefined;
    if (off < payload.length) {
      this.parts.push(payload.subarray(off));
      this.bytes += payload.length - off;
    }
    if (!marker) return undefined;
    this.inFrame = false;
    if (this.bytes === 0) return undefined;
    const data = Buffer.concat(this.parts, this.bytes); // a copy: frames outlive the packets (a decoder's GOP replay)
    this.parts = [];
    return { data, isKeyframe: this.keyframe };
  }
}

/**
 * Received video RTP → whole encoded frames (VP8, or H.264 as Annex B), through werift's jitter buffer and a
 * depacketizer (ours on bytes for VP8, werift's for H.264). After a gap the jitter buffer gives up on, frames are broken until the next keyframe: `onLoss` fires so
 * the owner can ask for one.
 */
export class VideoFrameAssembler {
  private readonly jitter = new JitterBufferBase(90000, { latency: 150, bufferSize: 2000 });
  private depacketizer?: DepacketizeBase;
  private vp8?: Vp8Depacketizer;
  frames = 0;

  constructor(
    private readonly codec: VideoCodec,
    private readonly onFrame: (frame: EncodedFrame) => void,
    private readonly onLoss: () => void = () => undefined,
  ) {
    this.reset();
  }

  private reset(): void {
    if (this.codec === 'vp8') this.vp8 = new Vp8Depacketizer();
    else this.depacketizer = new DepacketizeBase('MPEG4/ISO/AVC', { isFinalPacketInSequence: (h: RtpHeader) => h.marker });
  }

  push(rtp: RtpPacket): void {
    for (const j of this.jitter.processInput({ rtp })) {
      if (j.isPacketLost) {
        this.reset();
        this.onLoss();
      }
      if (!j.rtp) continue;
      if (this.vp8) {
        const f = this.vp8.push(j.rtp.payload, j.rtp.header.sequenceNumber, j.rtp.header.marker);
        if (f) {
          this.frames++;
          this.onFrame({ data: f.data, isKeyframe: f.isKeyframe, timestamp: j.rtp.header.timestamp });
        }
        continue;
      }
      for (const d of this.depacketizer!.processInput({ rtp: j.rtp })) {
        if (!d.frame) continue;
        this.frames++;
        // werift misses H.264 IDRs that arrive in STAP-A packets: look at the access unit itself.
        const isKeyframe = d.frame.isKeyframe || (this.codec === 'h264' && annexBIsKeyframe(d.frame.data));
        this.onFrame({ data: d.frame.data, isKeyframe, timestamp: j.rtp.header.timestamp });
      }
    }
  }
}
