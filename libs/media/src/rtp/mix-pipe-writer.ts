import type { Writable } from 'node:stream';
import type { EncodedFrame } from '../mixer/video-input';
import { ivfFileHeader, ivfFrameHeader } from './ivf';
import { OggOpusWriter } from './ogg-opus';

/**
 * Feeds a room's encoded mix into an ffmpeg that reads IVF video on one pipe and Ogg Opus on another (the livestream
 * pusher and the HLS writer). Both start at the first keyframe, so the output starts with a picture and in sync.
 */
export class MixPipeWriter {
  private readonly ogg = new OggOpusWriter(1);
  private firstVideoTs?: number;
  started = false;

  constructor(
    private readonly videoIn: Writable | undefined,
    private readonly audioIn: Writable | undefined,
    private readonly codec: 'h264' | 'vp8',
  ) {
    for (const s of [videoIn, audioIn]) s?.on('error', () => undefined);
  }

  video(frame: EncodedFrame): void {
    const v = this.videoIn;
    if (!v || v.destroyed || v.writableEnded) return;
    if (!this.started) {
      if (!frame.isKeyframe) return;
      this.firstVideoTs = frame.timestamp;
      v.write(ivfFileHeader(640, 360, 90000, this.codec === 'vp8' ? 'VP80' : 'H264'));
      this.started = true;
      this.audioIn?.write(this.ogg.header());
    }
    v.write(ivfFrameHeader(frame.data.length, (frame.timestamp - (this.firstVideoTs ?? frame.timestamp)) >>> 0));
    v.write(frame.data);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    const a = this.audioIn;
    if (!this.started || !a || a.destroyed || a.writableEnded) return;
    a.write(this.ogg.packet(opus, rtpTimestamp));
  }

  end(): void {
    this.videoIn?.end();
    this.audioIn?.end();
  }
}
