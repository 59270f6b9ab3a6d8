import type { RtpHeader, RtpPacket } from 'werift';
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard';
import type { EncodedFrame } from '../mixer/video-input';
import { annexBIsKeyframe } from './rtp-bytes';

/**
 * Received video RTP → whole encoded frames (VP8, or H.264 as Annex B), through werift's jitter buffer and
 * depacketizer. After a gap the jitter buffer gives up on, frames are broken until the next keyframe: `onLoss` fires so
 * the owner can ask for one.
 */
export class VideoFrameAssembler {
  private readonly jitter = new JitterBufferBase(90000, { latency: 150, bufferSize: 2000 });
  private depacketizer: DepacketizeBase;
  frames = 0;

  constructor(
    private readonly codec: 'vp8' | 'h264',
    private readonly onFrame: (frame: EncodedFrame) => void,
    private readonly onLoss: () => void = () => undefined,
  ) {
    this.depacketizer = this.newDepacketizer();
  }

  private newDepacketizer(): DepacketizeBase {
    return new DepacketizeBase(this.codec === 'vp8' ? 'VP8' : 'MPEG4/ISO/AVC', { isFinalPacketInSequence: (h: RtpHeader) => h.marker });
  }

  push(rtp: RtpPacket): void {
    for (const j of this.jitter.processInput({ rtp })) {
      if (j.isPacketLost) {
        this.depacketizer = this.newDepacketizer();
        this.onLoss();
      }
      if (!j.rtp) continue;
      for (const d of this.depacketizer.processInput({ rtp: j.rtp })) {
        if (!d.frame) continue;
        this.frames++;
        // werift misses H.264 IDRs that arrive in STAP-A packets: look at the access unit itself.
        const isKeyframe = d.frame.isKeyframe || (this.codec === 'h264' && annexBIsKeyframe(d.frame.data));
        this.onFrame({ data: d.frame.data, isKeyframe, timestamp: j.rtp.header.timestamp });
      }
    }
  }
}
