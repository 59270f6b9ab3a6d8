import { redactRtmpUrl, type VideoCodec } from '@app/core';
import type { Logger } from '../logger';
import { MixJob } from './mix-sink';
import { progressOutTimeUs, rtmpArgs } from './rtmp-args';

export interface RtmpSinkOptions {
  ffmpegPath: string;
  url: string;
  /** The room's video codec, known when the livestream was created: it decides between copying and transcoding. */
  videoCodec: VideoCodec;
  videoBitrateKbps?: number;
  fps?: number;
  logger?: Logger;
  /** Prefix of its log lines. */
  label: string;
  /** Told the microseconds of media written to the destination, each time ffmpeg reports progress. */
  onProgress?: (outTimeUs: number) => void;
}

/**
 * One connection attempt of a livestream: ffmpeg pushes the room's mix as FLV to the destination (see rtmpArgs). It
 * starts at the next keyframe and tells `onProgress` once ffmpeg says media was written to the destination. Nothing it
 * says (log lines, exit messages) contains the stream key.
 */
export class RtmpSink extends MixJob {
  constructor(o: RtmpSinkOptions) {
    super({
      name: `${o.label} ffmpeg`,
      command: o.ffmpegPath,
      args: rtmpArgs({ videoCodec: o.videoCodec, url: o.url, videoBitrateKbps: o.videoBitrateKbps, fps: o.fps }),
      videoCodec: o.videoCodec,
      stdout: 'text',
      redact: (text) => redactRtmpUrl(text, o.url),
      tailLines: 3,
      logger: o.logger,
    });
    this.on('stdout', (text) => {
      const us = progressOutTimeUs(text);
      if (us !== undefined && us > 0) o.onProgress?.(us);
    });
  }

  /** Ends the inputs so ffmpeg closes the stream cleanly; SIGKILL after `graceMs`. */
  override stop(graceMs = 3000) {
    return super.stop(graceMs);
  }
}
