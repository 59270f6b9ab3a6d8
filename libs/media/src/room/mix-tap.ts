import type { VideoCodec } from '@app/core';
import { EventEmitter } from 'node:events';
import { RtpPacket } from 'werift';
import type { EncodedFrame } from '../mixer/video-input';
import { VideoFrameAssembler } from '../rtp/video-frame-assembler';

/** What a recorder consumes: the room's encoded mix as frames and Opus packets. WhepClient and MixTap both provide it. */
export interface MixSource extends EventEmitter<{ video: [frame: EncodedFrame]; audio: [opus: Buffer, rtpTimestamp: number]; closed: [reason: string] }> {
  readonly videoCodec?: VideoCodec;
  readonly lastMediaAt: number;
  close(): Promise<void>;
}

type MixSourceEvents = { video: [frame: EncodedFrame]; audio: [opus: Buffer, rtpTimestamp: number]; closed: [reason: string] };

/** What both ends of a tap share: the events, the time of the last media, and the two ways to end. */
export abstract class TapBase extends EventEmitter<MixSourceEvents> implements MixSource {
  abstract readonly videoCodec?: VideoCodec;
  lastMediaAt = Date.now();
  protected closed = false;

  constructor(private readonly onClose: () => void) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The room (or its worker) went away. */
  end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed', reason);
    this.removeAllListeners();
  }

  /** The consumer is done with it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.removeAllListeners();
  }
}

/**
 * An in-process tap on a room's mix, for a worker that runs inside the server: the same packets a WHEP subscriber
 * gets, without the WebRTC hop (no DTLS/SRTP both ways), so a recording costs little more than ffmpeg's copy.
 */
export class MixTap extends TapBase {
  private readonly assembler?: VideoFrameAssembler;
  private audioTs = Math.floor(Math.random() * 0x7fffffff);

  constructor(
    readonly videoCodec: VideoCodec | undefined,
    onClose: (tap: MixTap) => void,
  ) {
    super(() => onClose(this));
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
}
