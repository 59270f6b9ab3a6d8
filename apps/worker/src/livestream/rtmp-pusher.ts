import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { livestreamArgs, progressOutTimeUs, redactUrl } from '@app/jobs';
import { type EncodedFrame, type Logger, MixPipeWriter } from '@app/media';

/**
 * One connection attempt of a livestream: ffmpeg (argument array) reads the room's encoded mix — IVF video on stdin,
 * Ogg Opus on fd 3 — and pushes FLV to the destination. It starts at the next keyframe (every 0.5 s in the mix) and
 * reports `progress` once ffmpeg says media was written to the destination. Messages never contain the stream key.
 */
export class RtmpPusher extends EventEmitter<{ progress: [outTimeUs: number]; exit: [code: number | null, error: string] }> {
  private child?: ChildProcess;
  private pipes?: MixPipeWriter;
  private stderrTail = '';
  private stopping = false;

  constructor(private readonly o: { ffmpegPath: string; url: string; videoCodec: 'h264' | 'vp8'; videoBitrateKbps?: number; fps?: number; logger?: Logger; label: string }) {
    super();
  }

  start(): void {
    const args = livestreamArgs({ videoCodec: this.o.videoCodec, url: this.o.url, videoBitrateKbps: this.o.videoBitrateKbps, fps: this.o.fps });
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.pipes = new MixPipeWriter(child.stdin ?? undefined, child.stdio[3] as Writable, this.o.videoCodec);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      const us = progressOutTimeUs(d);
      if (us !== undefined && us > 0) this.emit('progress', us);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      const clean = redactUrl(d, this.o.url);
      this.stderrTail = (this.stderrTail + clean).slice(-2000);
      this.o.logger?.debug?.(`[${this.o.label} ffmpeg] ${clean.trimEnd()}`);
    });
    child.once('error', (e) => this.emit('exit', null, redactUrl(`cannot run ffmpeg: ${e.message}`, this.o.url)));
    child.once('exit', (code, signal) => {
      const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      this.emit('exit', code, this.stopping ? 'stopped' : `ffmpeg exited with ${code ?? signal}: ${tail || 'no output'}`);
    });
  }

  video(frame: EncodedFrame): void {
    if (this.running) this.pipes?.video(frame);
  }

  audio(opus: Buffer, rtpTimestamp: number): void {
    if (this.running) this.pipes?.audio(opus, rtpTimestamp);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends the inputs so ffmpeg closes the stream cleanly; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 3000): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.pipes?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  }
}
