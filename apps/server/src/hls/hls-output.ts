import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { childLogger, HlsSink, type Logger, type MixSource, type RoomHandle } from '@app/media';

export interface HlsOutputOptions {
  ffmpegPath: string;
  dir: string;
  segmentSeconds: number;
  listSize: number;
  lowRendition: boolean;
  logger?: Logger;
}

/**
 * A room's live HLS: an in-process tap on the mix feeding an HlsSink (one supervised ffmpeg writing segments and a
 * live playlist into `dir`); the files are removed when the output closes.
 */
export class HlsOutput extends EventEmitter<{ closed: [reason: string] }> {
  private tap?: MixSource;
  private sink?: HlsSink;
  private closed = false;
  readonly startedAt = Date.now();
  lastRequestAt = Date.now();

  constructor(
    private readonly room: RoomHandle,
    private readonly o: HlsOutputOptions,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private log(m: string): void {
    this.o.logger?.log(`[hls room ${this.room.name}] ${m}`, { room: this.room.name });
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
    // the room's codec is fixed when it is created: whether the video is copied or transcoded is decided from it
    const sink = new HlsSink({
      name: `hls room ${this.room.name}`,
      ffmpegPath: this.o.ffmpegPath,
      dir: this.o.dir,
      videoCodec: this.room.options.videoCodec,
      segmentSeconds: this.o.segmentSeconds,
      listSize: this.o.listSize,
      lowRendition: this.o.lowRendition,
      fps: this.room.options.fps,
      videoBitrateKbps: this.room.options.videoBitrateKbps,
      logger: childLogger(this.o.logger, { room: this.room.name }),
    });
    this.sink = sink;
    tap.on('video', (f) => sink.video(f));
    tap.on('audio', (p, ts) => sink.audio(p, ts));
    tap.on('closed', (reason) => void this.close(`the room's mix ended: ${reason}`).catch(() => undefined)); // close() logs its own failures
    sink.start();
    this.log(`started (${this.o.segmentSeconds} s segments, ${this.o.listSize} in the playlist${this.o.lowRendition ? ', with a 360p rendition' : ''}) in ${this.o.dir}`);
  }

  /** Stops ffmpeg and the tap and removes the files. Idempotent. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tap?.close().catch(() => undefined);
    await this.sink?.stop(2000).catch((e: Error) => this.o.logger?.warn(`[hls room ${this.room.name}] ffmpeg did not stop cleanly: ${e.message}`, { room: this.room.name }));
    // files that cannot be removed (a read-only or full disk, the directory replaced) are left behind, logged: the
    // output is closed all the same
    await rm(this.o.dir, { recursive: true, force: true }).catch((e: Error) => this.o.logger?.warn(`[hls room ${this.room.name}] its files could not be removed: ${e.message}`, { room: this.room.name }));
    this.log(`stopped: ${reason}`);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
