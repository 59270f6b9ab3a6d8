import { EventEmitter } from 'node:events';
import type { VideoCodec } from '@app/core';
import type { EncodedFrame } from '../mixer/video-input';
import { MixPipeWriter } from '../rtp/mix-pipe-writer';
import type { FfmpegExit } from './ffmpeg-exit';
import { FfmpegJob, type FfmpegJobOptions } from './ffmpeg-job';

/**
 * An output of a room's encoded mix — a recording file, an RTMP push, live HLS: the mix goes in (video frames and
 * Opus packets as they are encoded), one ffmpeg writes it out.
 */
export interface MixSink {
  start(): void;
  video(frame: EncodedFrame): void;
  audio(opus: Buffer, rtpTimestamp: number): void;
  /** ffmpeg is up and taking the mix. */
  readonly running: boolean;
  /** Ends the inputs so ffmpeg finishes its output; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<unknown>;
}

export interface MixJobOptions extends Omit<FfmpegJobOptions, 'fd3'> {
  /** The codec of the mix's video, decided when the output was created (absent for audio only). */
  videoCodec?: VideoCodec;
  audioOnly?: boolean;
  /** Called once, when the first media goes in (the first keyframe, or at once for audio only). */
  onStart?: () => void;
}

/**
 * A MixSink run by one FfmpegJob: the mix goes in as IVF video on stdin and Ogg Opus on fd 3 (see MixPipeWriter, which
 * starts both at the first keyframe); media offered before ffmpeg's pipes are usable is dropped. `exit` says why it
 * ended, also when ffmpeg could not be started at all ("ffmpeg not found at <path>").
 */
export class MixJob extends EventEmitter<{ exit: [exit: FfmpegExit]; stdout: [text: string] }> implements MixSink {
  protected readonly job: FfmpegJob;
  private pipes?: MixPipeWriter;

  constructor(o: MixJobOptions) {
    super();
    this.job = new FfmpegJob({ ...o, fd3: true });
    this.job.on('ready', (child, fd3) => (this.pipes = new MixPipeWriter(child.stdin, fd3, o.videoCodec, { audioOnly: o.audioOnly, onStart: o.onStart })));
    this.job.on('stdout', (text) => this.emit('stdout', text));
    this.job.on('exit', (exit) => this.emit('exit', exit));
  }

  start(): void {
    this.job.start();
  }

  video(frame: EncodedFrame): void {
    if (this.job.running) this.pipes?.video(frame);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    if (this.job.running) this.pipes?.audio(opus, rtpTimestamp);
  }

  get running(): boolean {
    return this.job.running;
  }

  get pid(): number | undefined {
    return this.job.pid;
  }

  /** Ends the inputs and waits for ffmpeg to finish its output (killed after `graceMs`). */
  stop(graceMs = 10_000): Promise<FfmpegExit | undefined> {
    return this.job.stop(graceMs);
  }

  kill(): void {
    this.job.kill();
  }
}
