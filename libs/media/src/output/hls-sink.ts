import { randomBytes } from 'node:crypto';
import type { VideoCodec } from '@app/core';
import { SupervisedProcess } from '../ffmpeg/supervised-process';
import type { Logger } from '../logger';
import type { EncodedFrame } from '../mixer/video-input';
import { MixPipeWriter } from '../rtp/mix-pipe-writer';
import { hlsArgs } from './hls-args';
import type { MixSink } from './mix-sink';

export interface HlsSinkOptions {
  /** Prefix of its log lines. */
  name: string;
  ffmpegPath: string;
  dir: string;
  /** The room's video codec, known when the output was created: it decides between copying and transcoding. */
  videoCodec: VideoCodec;
  segmentSeconds: number;
  listSize: number;
  lowRendition: boolean;
  fps?: number;
  videoBitrateKbps?: number;
  logger?: Logger;
}

/**
 * A room's live HLS writer: ffmpeg writes segments and a live playlist into `dir` (see hlsArgs). Supervised: restarted
 * with backoff if it dies (each run an FfmpegJob, see SupervisedProcess), each run with a new segment prefix, so a
 * restarted output never reuses a segment name a viewer may have cached.
 */
export class HlsSink implements MixSink {
  private readonly proc: SupervisedProcess;
  private pipes?: MixPipeWriter;

  constructor(o: HlsSinkOptions) {
    this.proc = new SupervisedProcess({
      name: o.name,
      command: o.ffmpegPath,
      fd3: true,
      args: () =>
        hlsArgs({
          videoCodec: o.videoCodec,
          dir: o.dir,
          run: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.slice(-12),
          segmentSeconds: o.segmentSeconds,
          listSize: o.listSize,
          lowRendition: o.lowRendition,
          fps: o.fps,
          videoBitrateKbps: o.videoBitrateKbps,
        }),
      logger: o.logger,
    });
    this.proc.on('spawn', (child, fd3) => (this.pipes = new MixPipeWriter(child.stdin, fd3, o.videoCodec)));
    this.proc.on('exit', () => (this.pipes = undefined));
  }

  start(): void {
    this.proc.start();
  }

  video(frame: EncodedFrame): void {
    this.pipes?.video(frame);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    this.pipes?.audio(opus, rtpTimestamp);
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** Ends the inputs so ffmpeg writes its last segment; SIGKILL after `graceMs`. Never restarted after this. */
  stop(graceMs = 2000): Promise<void> {
    return this.proc.stop(graceMs);
  }
}
