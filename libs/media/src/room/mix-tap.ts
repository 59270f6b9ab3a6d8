import { EventEmitter } from 'node:events';
import { RtpPacket } from 'werift';
import type { EncodedFrame } from '../mixer/video-input';
import { VideoFrameAssembler } from '../rtp/video-frame-assembler';

/** What a recorder consumes: the room's encoded mix as frames and Opus packets. WhepClient and MixTap both provide it. */
export interface MixSource extends EventEmitter<{ video: [frame: EncodedFrame]; audio: [opus: Buffer, rtpTimestamp: number]; closed: [reason: string] }> {
  readonly videoCodec?: 'h264' | 'vp8';
  readonly lastMediaAt: number;
  close(): Promise<void>;
}

/**
 * An in-process tap on a room's mix, for a worker that runs inside the server: the same packets a WHEP subscriber
 * gets, without the WebRTC hop (no DTLS/SRTP both ways), so a recording costs little more than ffmpeg's copy.
 */
export class MixTap extends EventEmitter<{ video: [frame: EncodedFrame]; audio: [opus: Buffer, rtpTimestamp: number]; closed: [reason: string] }> implements MixSource {
  lastMediaAt = Date.now();
  private readonly assembler?: VideoFrameAssembler;
  private audioTs = Math.floor(Math.random() * 0x7fffffff);
  private closed = false;

  constructor(
    readonly videoCodec: 'h264' | 'vp8' | undefined,
    private readonly onClose: (tap: MixTap) => void,
  ) {
    super();
    if (videoCodec) this.assembler = new VideoFrameAssembler(videoCodec, (f) => this.emit('video', f));
  }

  pushVideo(packet: Buffer): void {
    if (!this.assembler) return;
    this.lastMediaAt = Date.now();
    this.assembler.push(RtpPacket.deSerialize(packet));
  }

  pushAudio(opus: Buffer): void {
    this.lastMediaAt = Date.now();
    this.audioTs = (this.audioTs + 960) >>> 0;
    this.emit('audio', opus, this.audioTs);
  }

  /** The room went away. */
  end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed', reason);
    this.removeAllListeners();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.removeAllListeners();
  }
}
