import type { VideoCodec } from '@app/core';
import type { Writable } from 'node:stream';
import type { EncodedFrame } from '../mixer/video-input';
import { ivfFileHeader, ivfFrameHeader } from './ivf';
import { OggOpusWriter } from './ogg-opus';

/** Bytes a pipe may hold unread before frames are dropped (ffmpeg fell behind: a slow destination, a busy CPU). */
export const MAX_PIPE_BACKLOG = 8 * 1024 * 1024;

export interface MixPipeWriterOptions {
  /** No video pipe: audio starts at once. */
  audioOnly?: boolean;
  /** Called once, when the first media goes in (the first keyframe, or at once for audio only). */
  onStart?: () => void;
  maxBacklogBytes?: number;
}

/**
 * Feeds a room's encoded mix into an ffmpeg that reads IVF video on one pipe and Ogg Opus on another (recorder,
 * livestream pusher, HLS writer). Both start at the first keyframe, so the output starts with a picture and in sync.
 * If ffmpeg stops reading, nothing piles up without bound: past `maxBacklogBytes` video is dropped until the next
 * keyframe (so the decoder never sees a broken reference chain) and audio packets are dropped.
 */
export class MixPipeWriter {
  private readonly ogg = new OggOpusWriter(1);
  private firstVideoTs?: number;
  private started = false;
  private waitForKeyframe = false;
  private readonly maxBacklog: number;
  droppedVideoFrames = 0;
  droppedAudioPackets = 0;

  constructor(
    private readonly videoIn: Writable | undefined,
    private readonly audioIn: Writable | undefined,
    private readonly codec: VideoCodec | undefined,
    private readonly o: MixPipeWriterOptions = {},
  ) {
    this.maxBacklog = o.maxBacklogBytes ?? MAX_PIPE_BACKLOG;
    for (const s of [videoIn, audioIn]) s?.on('error', () => undefined);
    if (o.audioOnly) this.begin();
  }

  private begin(): void {
    this.started = true;
    this.audioIn?.write(this.ogg.header());
    this.o.onStart?.();
  }

  video(frame: EncodedFrame): void {
    const v = this.videoIn;
    if (this.o.audioOnly || !v || v.destroyed || v.writableEnded) return;
    if (!this.started) {
      if (!frame.isKeyframe) return;
      this.firstVideoTs = frame.timestamp;
      v.write(ivfFileHeader(640, 360, 90000, this.codec === 'vp8' ? 'VP80' : 'H264'));
      this.begin();
    }
    if (v.writableLength > this.maxBacklog) this.waitForKeyframe = true;
    if (this.waitForKeyframe) {
      if (!frame.isKeyframe || v.writableLength > this.maxBacklog) {
        this.droppedVideoFrames++;
        return;
      }
      this.waitForKeyframe = false;
    }
    v.write(ivfFrameHeader(frame.data.length, (frame.timestamp - (this.firstVideoTs ?? frame.timestamp)) >>> 0));
    v.write(frame.data);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    const a = this.audioIn;
    if (!this.started || !a || a.destroyed || a.writableEnded) return;
    if (a.writableLength > this.maxBacklog) {
      this.droppedAudioPackets++;
      return;
    }
    a.write(this.ogg.packet(opus, rtpTimestamp));
  }

  end(): void {
    this.videoIn?.end();
    this.audioIn?.end();
  }
}
