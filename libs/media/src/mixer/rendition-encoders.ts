import { EventEmitter } from 'node:events';
import type { RenditionSpec } from '@app/core';
import type { VideoCodec } from '@app/core';
import type { Logger } from '../logger';
import { VideoEncoder } from './video-encoder';

export interface RenditionEncodersOptions {
  /** High first (the room's own size), then the lower rungs. */
  ladder: readonly RenditionSpec[];
  codec: VideoCodec;
  canvasWidth: number;
  canvasHeight: number;
  clockFps: number;
  ffmpegPath: string;
  /** Longest GOP when nobody asks for keyframes (ms). */
  keyframeIntervalMs: number;
  /** A lower rung nobody uses any more stops after this long (a subscriber flapping back does not respawn it). */
  idleStopMs?: number;
}

export interface RenditionStats {
  name: string;
  running: boolean;
  users: number;
  framesIn: number;
  framesDropped: number;
  restarts: number;
  packetsOut: number;
  bytesOut: number;
  keyframesRequested: number;
  keyframesForced: number;
  keyframesOut: number;
}

/**
 * The ladder's encoders: each rung is encoded once and shared by everyone on it. High runs while the mixer runs; a
 * lower rung's encoder runs only while someone (a subscriber) uses it.
 */
export class RenditionEncoders extends EventEmitter<{ rtp: [rendition: string, packet: Buffer, keyframeStart: boolean] }> {
  private readonly encoders = new Map<string, VideoEncoder>();
  private readonly users = new Map<string, number>();
  private readonly stopTimers = new Map<string, NodeJS.Timeout>();
  /** Counters of encoders that stopped, so that totals never go back when a rung stops and starts again. */
  private readonly retired = new Map<string, { keyframesRequested: number; keyframesForced: number; keyframesOut: number; framesIn: number; framesDropped: number }>();
  private closed = false;

  constructor(
    private readonly o: RenditionEncodersOptions,
    private readonly logger?: Logger,
  ) {
    super();
    if (o.ladder.length === 0) throw new RangeError('a ladder has at least the high rendition');
  }

  get ladder(): readonly RenditionSpec[] {
    return this.o.ladder;
  }

  get high(): string {
    return this.o.ladder[0].name;
  }

  async start(): Promise<void> {
    await this.run(this.high);
  }

  private spec(name: string): RenditionSpec | undefined {
    return this.o.ladder.find((r) => r.name === name);
  }

  private async run(name: string): Promise<void> {
    if (this.closed || this.encoders.has(name)) return;
    const spec = this.spec(name);
    if (!spec) throw new RangeError(`no rendition "${name}"`);
    const enc = new VideoEncoder(
      {
        name,
        codec: this.o.codec,
        inputWidth: this.o.canvasWidth,
        inputHeight: this.o.canvasHeight,
        width: spec.width,
        height: spec.height,
        fps: Math.min(spec.fps, this.o.clockFps),
        clockFps: this.o.clockFps,
        bitrateKbps: spec.bitrateKbps,
        keyframeIntervalMs: this.o.keyframeIntervalMs,
        ffmpegPath: this.o.ffmpegPath,
      },
      this.logger,
    );
    this.encoders.set(name, enc);
    enc.on('rtp', (p, k) => this.emit('rtp', name, p, k));
    await enc.start();
    if (name !== this.high) this.logger?.log(`rendition ${name} (${spec.width}x${spec.height} ${spec.bitrateKbps} kbps) started`);
  }

  /** Someone starts using `name`: its encoder starts if it is not running. */
  acquire(name: string): void {
    if (!this.spec(name)) throw new RangeError(`no rendition "${name}"`);
    this.users.set(name, (this.users.get(name) ?? 0) + 1);
    clearTimeout(this.stopTimers.get(name));
    this.stopTimers.delete(name);
    if (!this.encoders.has(name)) void this.run(name).catch((e: Error) => this.logger?.warn(`rendition ${name} failed to start: ${e.message}`));
  }

  release(name: string): void {
    const n = (this.users.get(name) ?? 0) - 1;
    if (n > 0) return void this.users.set(name, n);
    this.users.delete(name);
    if (name === this.high || !this.encoders.has(name) || this.stopTimers.has(name)) return;
    const t = setTimeout(() => {
      this.stopTimers.delete(name);
      if (this.users.has(name)) return;
      const enc = this.encoders.get(name);
      if (enc) {
        const r = this.retiredOf(name);
        r.keyframesRequested += enc.keyframes.requested;
        r.keyframesForced += enc.keyframes.forced;
        r.keyframesOut += enc.keyframesOut;
        r.framesIn += enc.framesIn;
        r.framesDropped += enc.framesDropped;
        enc.close();
      }
      this.encoders.delete(name);
      this.logger?.log(`rendition ${name} stopped: nobody uses it`);
    }, this.o.idleStopMs ?? 5000);
    this.stopTimers.set(name, t);
  }

  private retiredOf(name: string) {
    let r = this.retired.get(name);
    if (!r) this.retired.set(name, (r = { keyframesRequested: 0, keyframesForced: 0, keyframesOut: 0, framesIn: 0, framesDropped: 0 }));
    return r;
  }

  isRunning(name: string): boolean {
    return this.encoders.has(name);
  }

  requestKeyframe(name: string): void {
    this.encoders.get(name)?.requestKeyframe();
  }

  /** Longest GOP of one rendition (outputs such as HLS need a keyframe every segment). */
  setKeyframeInterval(name: string, ms: number): void {
    const enc = this.encoders.get(name);
    if (enc) enc.keyframes.maxIntervalMs = ms;
  }

  writeFrame(canvas: Buffer, index: number): void {
    for (const enc of this.encoders.values()) enc.writeFrame(canvas, index);
  }

  encoder(name: string): VideoEncoder | undefined {
    return this.encoders.get(name);
  }

  stats(): RenditionStats[] {
    return this.o.ladder.map((r) => {
      const e = this.encoders.get(r.name);
      const old = this.retired.get(r.name);
      return {
        name: r.name,
        running: Boolean(e),
        users: this.users.get(r.name) ?? 0,
        framesIn: (e?.framesIn ?? 0) + (old?.framesIn ?? 0),
        framesDropped: (e?.framesDropped ?? 0) + (old?.framesDropped ?? 0),
        restarts: e?.restarts ?? 0,
        packetsOut: e?.packetsOut ?? 0,
        bytesOut: e?.bytesOut ?? 0,
        keyframesRequested: (e?.keyframes.requested ?? 0) + (old?.keyframesRequested ?? 0),
        keyframesForced: (e?.keyframes.forced ?? 0) + (old?.keyframesForced ?? 0),
        keyframesOut: (e?.keyframesOut ?? 0) + (old?.keyframesOut ?? 0),
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.stopTimers.values()) clearTimeout(t);
    this.stopTimers.clear();
    for (const e of this.encoders.values()) e.close();
    this.encoders.clear();
    this.removeAllListeners();
  }
}
