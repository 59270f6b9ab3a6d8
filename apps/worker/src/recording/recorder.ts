import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { recordingArgs, type RecordingFormat } from '@app/jobs';
import { type EncodedFrame, type Logger, MixPipeWriter } from '@app/media';

/**
 * Writes a room's encoded mix to a file through ffmpeg (argument array, copied streams): video frames as IVF on stdin,
 * Opus as Ogg on fd 3. Video starts at the first keyframe and audio with it, so both start together. When this process
 * dies, ffmpeg's inputs close and it finishes the file by itself: what was written stays playable.
 */
export class Recorder extends EventEmitter<{ exit: [code: number | null, stderrTail: string] }> {
  private child?: ChildProcess;
  private pipes?: MixPipeWriter;
  private stderrTail = '';
  startedAt?: number;

  constructor(
    private readonly o: { ffmpegPath: string; format: RecordingFormat; audioOnly: boolean; videoCodec?: 'h264' | 'vp8'; output: string; logger?: Logger },
  ) {
    super();
  }

  start(): void {
    const args = recordingArgs({ format: this.o.format, audioOnly: this.o.audioOnly, videoCodec: this.o.videoCodec, output: this.o.output });
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.pipes = new MixPipeWriter(child.stdin ?? undefined, child.stdio[3] as Writable, this.o.videoCodec, {
      audioOnly: this.o.audioOnly,
      onStart: () => (this.startedAt = Date.now()),
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-2000);
      this.o.logger?.debug?.(`[recorder ffmpeg] ${d.trimEnd()}`);
    });
    child.once('exit', (code) => this.emit('exit', code, this.stderrTail.trim().split('\n').slice(-5).join(' | ')));
  }

  video(frame: EncodedFrame): void {
    this.pipes?.video(frame);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    this.pipes?.audio(opus, rtpTimestamp);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
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

  /** Ends the inputs and waits for ffmpeg to finish the file (killed after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    this.pipes?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}
