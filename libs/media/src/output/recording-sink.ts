import { statSync } from 'node:fs';
import type { VideoCodec } from '@app/core';
import type { Logger } from '../logger';
import { MixJob } from './mix-sink';
import { recordingArgs, type RecordingFormat } from './recording-args';

export interface RecordingSinkOptions {
  ffmpegPath: string;
  format: RecordingFormat;
  audioOnly: boolean;
  /** The room's video codec, known when the recording was created: it decides between copying and transcoding. */
  videoCodec?: VideoCodec;
  output: string;
  logger?: Logger;
}

/**
 * Writes a room's encoded mix to a file (copied streams, see recordingArgs). When this process dies, ffmpeg's inputs
 * close and it finishes the file by itself: what was written stays playable.
 */
export class RecordingSink extends MixJob {
  startedAt?: number;

  constructor(private readonly o: RecordingSinkOptions) {
    super({
      name: 'recorder ffmpeg',
      command: o.ffmpegPath,
      args: recordingArgs({ format: o.format, audioOnly: o.audioOnly, videoCodec: o.videoCodec, output: o.output }),
      videoCodec: o.videoCodec,
      audioOnly: o.audioOnly,
      onStart: () => (this.startedAt = Date.now()),
      logger: o.logger,
    });
    this.on('exit', (exit) => exit.kind === 'spawn-failed' && o.logger?.warn(`[recorder] ${exit.message}`));
  }

  get sizeBytes(): number {
    try {
      return statSync(this.o.output).size;
    } catch {
      return 0;
    }
  }

  get durationSeconds(): number {
    return this.startedAt ? (Date.now() - this.startedAt) / 1000 : 0;
  }
}
