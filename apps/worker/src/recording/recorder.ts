import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { recordingArgs, type RecordingFormat } from '@app/jobs';
import { type EncodedFrame, ivfFileHeader, ivfFrameHeader, type Logger, OggOpusWriter } from '@app/media';

/**
 * Writes a room's encoded mix to a file through ffmpeg (argument array, copied streams): video frames as IVF on stdin,
 * Opus as Ogg on fd 3. Video starts at the first keyframe and audio with it, so both start together. When this process
 * dies, ffmpeg's inputs close and it finishes the file by itself: what was written stays playable.
 */
export class Recorder extends EventEmitter<{ exit: [code: number | null, stderrTail: string] }> {
  private child?: ChildProcess;
  private videoIn?: Writable;
  private audioIn?: Writable;
  private readonly ogg = new OggOpusWriter(1);
  private firstVideoTs?: number;
  private started = false;
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
    this.videoIn = child.stdin ?? undefined;
    this.audioIn = child.stdio[3] as Writable;
    for (const s of [this.videoIn, this.audioIn]) s?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-2000);
      this.o.logger?.debug?.(`[recorder ffmpeg] ${d.trimEnd()}`);
    });
    child.once('exit', (code) => this.emit('exit', code, this.stderrTail.trim().split('\n').slice(-5).join(' | ')));
    if (this.o.audioOnly) this.begin();
  }

  private begin(): void {
    this.started = true;
    this.startedAt = Date.now();
    this.audioIn?.write(this.ogg.header());
  }

  video(frame: EncodedFrame): void {
    if (this.o.audioOnly || !this.videoIn) return;
    if (!this.started) {
      if (!frame.isKeyframe) return;
      this.firstVideoTs = frame.timestamp;
      this.videoIn.write(ivfFileHeader(640, 360, 90000, this.o.videoCodec === 'vp8' ? 'VP80' : 'H264'));
      this.begin();
    }
    const pts = (frame.timestamp - (this.firstVideoTs ?? frame.timestamp)) >>> 0;
    this.videoIn.write(ivfFrameHeader(frame.data.length, pts));
    this.videoIn.write(frame.data);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    if (!this.started || !this.audioIn) return;
    this.audioIn.write(this.ogg.packet(opus, rtpTimestamp));
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
    this.videoIn?.end();
    this.audioIn?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}
