import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { hlsArgs, type Logger, type MixTap, MixPipeWriter, type Room, SupervisedProcess } from '@app/media';

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
  private proc?: SupervisedProcess;
  private pipes?: MixPipeWriter;
  private closed = false;
  readonly startedAt = Date.now();
  lastRequestAt = Date.now();

  constructor(
    private readonly room: Room,
    private readonly o: HlsOutputOptions,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private log(m: string): void {
    this.o.logger?.log(`[hls room ${this.room.name}] ${m}`);
  }

  async start(): Promise<void> {
    await rm(this.o.dir, { recursive: true, force: true });
    await mkdir(this.o.dir, { recursive: true });
    const tap = await this.room.tap({ video: true });
    if (this.closed) {
      await tap.close();
      return;
    }
    this.tap = tap;
    tap.on('video', (f) => this.pipes?.video(f));
    tap.on('audio', (p, ts) => this.pipes?.audio(p, ts));
    tap.on('closed', (reason) => void this.close(`the room's mix ended: ${reason}`));
    const codec = tap.videoCodec ?? 'h264';
    // supervised: restarted with backoff if it dies, each run with a new segment prefix (names never repeat)
    this.proc = new SupervisedProcess({
      name: `hls room ${this.room.name}`,
      command: this.o.ffmpegPath,
      fd3: true,
      args: () =>
        hlsArgs({
          videoCodec: codec,
          dir: this.o.dir,
          run: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.slice(-12),
          segmentSeconds: this.o.segmentSeconds,
          listSize: this.o.listSize,
          lowRendition: this.o.lowRendition,
          fps: this.room.options.fps,
          videoBitrateKbps: this.room.options.videoBitrateKbps,
        }),
      logger: this.o.logger,
    });
    this.proc.on('spawn', (child, fd3) => (this.pipes = new MixPipeWriter(child.stdin, fd3, codec)));
    this.proc.on('exit', () => (this.pipes = undefined));
    this.proc.start();
    this.log(`started (${this.o.segmentSeconds} s segments, ${this.o.listSize} in the playlist${this.o.lowRendition ? ', with a 360p rendition' : ''}) in ${this.o.dir}`);
  }

  /** Stops ffmpeg and the tap and removes the files. Idempotent. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tap?.close().catch(() => undefined);
    await this.proc?.stop(2000);
    await rm(this.o.dir, { recursive: true, force: true });
    this.log(`stopped: ${reason}`);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
