import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { hlsArgs, type Logger, type MixTap, MixPipeWriter, type Room } from '@app/media';

export interface HlsOutputOptions {
  ffmpegPath: string;
  dir: string;
  segmentSeconds: number;
  listSize: number;
  lowRendition: boolean;
  logger?: Logger;
}

/**
 * A room's live HLS: an in-process tap on the mix feeding one ffmpeg that writes segments and a live playlist into
 * `dir`. ffmpeg is restarted (with a new segment prefix) if it dies; the files are removed when the output closes.
 */
export class HlsOutput extends EventEmitter<{ closed: [reason: string] }> {
  private tap?: MixTap;
  private child?: ChildProcess;
  private pipes?: MixPipeWriter;
  private restartTimer?: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  readonly startedAt = Date.now();
  lastRequestAt = Date.now();

  constructor(
    private readonly room: Room,
    private readonly o: HlsOutputOptions,
  ) {
    super();
  }

  private log(m: string): void {
    this.o.logger?.log(`[hls room ${this.room.name}] ${m}`);
  }

  async start(): Promise<void> {
    rmSync(this.o.dir, { recursive: true, force: true });
    mkdirSync(this.o.dir, { recursive: true });
    const tap = await this.room.tap({ video: true });
    if (this.closed) {
      await tap.close();
      return;
    }
    this.tap = tap;
    tap.on('video', (f) => this.pipes?.video(f));
    tap.on('audio', (p, ts) => this.pipes?.audio(p, ts));
    tap.on('closed', (reason) => void this.close(`the room's mix ended: ${reason}`));
    this.spawn();
    this.log(`started (${this.o.segmentSeconds} s segments, ${this.o.listSize} in the playlist${this.o.lowRendition ? ', with a 360p rendition' : ''}) in ${this.o.dir}`);
  }

  private spawn(): void {
    const codec = this.tap?.videoCodec ?? 'h264';
    const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.slice(-12);
    const args = hlsArgs({
      videoCodec: codec,
      dir: this.o.dir,
      run,
      segmentSeconds: this.o.segmentSeconds,
      listSize: this.o.listSize,
      lowRendition: this.o.lowRendition,
      fps: this.room.options.fps,
      videoBitrateKbps: this.room.options.videoBitrateKbps,
    });
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.pipes = new MixPipeWriter(child.stdin ?? undefined, child.stdio[3] as Writable, codec);
    let tail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      tail = (tail + d).slice(-2000);
      this.o.logger?.debug?.(`[hls room ${this.room.name} ffmpeg] ${d.trimEnd()}`);
    });
    const started = Date.now();
    child.once('error', (e) => this.o.logger?.warn(`[hls room ${this.room.name}] cannot run ffmpeg: ${e.message}`));
    child.once('exit', (code, signal) => {
      if (this.closed || this.child !== child) return;
      this.pipes = undefined;
      this.failures = Date.now() - started > 10_000 ? 1 : this.failures + 1;
      const wait = Math.min(10_000, 250 * 2 ** (this.failures - 1));
      this.o.logger?.warn(`[hls room ${this.room.name}] ffmpeg exited with ${code ?? signal}; restarting in ${wait} ms: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
      this.restartTimer = setTimeout(() => !this.closed && this.spawn(), wait);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops ffmpeg and the tap and removes the files. Idempotent. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.tap?.close().catch(() => undefined);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      this.pipes?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.o.dir, { recursive: true, force: true });
    this.log(`stopped: ${reason}`);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
