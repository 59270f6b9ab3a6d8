import type { VideoCodec } from '@app/core';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { encoderArgs, KEYFRAME_PTS_MARK } from '../ffmpeg/ffmpeg-args';
import { SupervisedProcess } from '../ffmpeg/supervised-process';
import type { Logger } from '../logger';
import { ivfFileHeader } from '../rtp/ivf';
import { isRtp, RtpContinuity, rtpTimestamp, startsKeyframe } from '../rtp/rtp-bytes';
import { KeyframeGate } from './keyframe-gate';

export interface VideoEncoderOptions {
  /** The rendition this encoder makes ('high', 'medium', …). */
  name: string;
  codec: VideoCodec;
  /** The canvas frames written to it. */
  inputWidth: number;
  inputHeight: number;
  /** The rendition's own size, frame rate (≤ the canvas clock's `clockFps`) and bitrate. */
  width: number;
  height: number;
  fps: number;
  clockFps: number;
  bitrateKbps: number;
  /** Longest time between two keyframes when nobody asks for one. */
  keyframeIntervalMs: number;
  ffmpegPath: string;
}

const IVF_FRAME_HEADER = 12;

/**
 * One rendition's video encoder: canvas frames in (stdin, IVF with our timestamps), RTP out (loopback UDP), rewritten
 * so that the stream stays continuous across encoder restarts. Never restarted for joins, leaves or layout changes.
 * Keyframes come on request (`requestKeyframe`, rate-limited by a KeyframeGate) on the very next frame: the frame's
 * timestamp carries the mark that ffmpeg's -force_key_frames expression turns into an IDR.
 */
export class VideoEncoder extends EventEmitter<{ rtp: [packet: Buffer, keyframeStart: boolean] }> {
  private socket?: Socket;
  private proc?: SupervisedProcess;
  private readonly continuity: RtpContinuity;
  private readonly frameSize: number;
  private readonly pool: Buffer[] = [];
  /** Even 90 kHz ticks per canvas frame (the odd tick is the keyframe mark). */
  private readonly ticksPerFrame: number;
  private baseIndex?: number;
  private lastTakenSlot = -1;
  private lastKeyframeTs?: number;
  readonly keyframes: KeyframeGate;
  framesIn = 0;
  framesDropped = 0;
  packetsOut = 0;
  bytesOut = 0;
  keyframesOut = 0;

  constructor(
    readonly o: VideoEncoderOptions,
    private readonly logger?: Logger,
  ) {
    super();
    this.continuity = new RtpContinuity(90000, (Math.random() * 0xffffffff) >>> 0);
    this.frameSize = o.inputWidth * o.inputHeight * 1.5;
    this.ticksPerFrame = 2 * Math.round(45000 / o.clockFps);
    this.keyframes = new KeyframeGate(500, o.keyframeIntervalMs);
  }

  get name(): string {
    return this.o.name;
  }

  get restarts(): number {
    return this.proc?.restarts ?? 0;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.on('error', (e) => this.logger?.warn(`[encoder ${this.o.name}] socket error: ${e.message}`));
    const port = socket.address().port;
    const pt = this.o.codec === 'h264' ? 102 : 96;
    socket.on('message', (msg) => this.onRtp(msg));
    this.proc = new SupervisedProcess({
      name: `encoder ${this.o.name}`,
      command: this.o.ffmpegPath,
      // A fresh SSRC per run lets the continuity rewriter see the restart.
      args: () => encoderArgs({ ...this.o, gop: Math.max(1, Math.round((this.o.fps * this.o.keyframeIntervalMs) / 1000) * 2), rtpPort: port, payloadType: pt, ssrc: (Math.random() * 0x7fffffff) >>> 0 }),
      logger: this.logger,
      minBackoffMs: 100,
      maxBackoffMs: 5000,
    });
    this.proc.on('spawn', (child) => {
      this.continuity.markDiscontinuity();
      this.baseIndex = undefined; // timestamps of the new process start at 0
      this.keyframes.encoderRestarted(performance.now());
      child.stdin.write(ivfFileHeader(this.o.inputWidth, this.o.inputHeight, 90000, 'I420'));
    });
    this.proc.start();
  }

  private onRtp(msg: Buffer): void {
    if (!isRtp(msg)) return;
    const key = startsKeyframe(msg, this.o.codec);
    // a keyframe spans packets (SPS, PPS, IDR fragments; several start one): count it once, by its timestamp
    if (key && rtpTimestamp(msg) !== this.lastKeyframeTs) {
      this.lastKeyframeTs = rtpTimestamp(msg);
      this.keyframesOut++;
    }
    this.continuity.rewrite(msg, performance.now());
    this.packetsOut++;
    this.bytesOut += msg.length;
    this.emit('rtp', msg, key);
  }

  /** A keyframe as soon as the rate limit allows (coalesced with other requests). */
  requestKeyframe(): void {
    this.keyframes.request(performance.now());
  }

  /**
   * Offers canvas frame number `index` of the room's clock. A rendition at a lower frame rate takes only some of them;
   * a frame is dropped (and counted) if the encoder is more than two frames behind.
   */
  writeFrame(frame: Buffer, index: number): void {
    const slot = Math.floor((index * this.o.fps) / this.o.clockFps);
    if (slot === this.lastTakenSlot) return;
    this.lastTakenSlot = slot;
    const stdin = this.proc?.stdin;
    if (!stdin || !this.proc?.running || stdin.writableLength > 2 * this.frameSize) {
      this.framesDropped++;
      return;
    }
    this.baseIndex ??= index;
    const force = this.keyframes.shouldForce(performance.now());
    this.framesIn++;
    // Copy: the canvas is redrawn in place on the next tick while this write may still be queued. The copies come
    // from a small pool (at most ~3 frames are in flight, see above) and go back to it once written.
    const copy = this.pool.pop() ?? Buffer.allocUnsafe(IVF_FRAME_HEADER + this.frameSize);
    copy.writeUInt32LE(this.frameSize, 0);
    copy.writeBigUInt64LE(BigInt((index - this.baseIndex) * this.ticksPerFrame + (force ? KEYFRAME_PTS_MARK : 0)), 4);
    frame.copy(copy, IVF_FRAME_HEADER);
    stdin.write(copy, () => {
      if (this.pool.length < 4) this.pool.push(copy);
    });
  }

  close(): void {
    this.proc?.close();
    try {
      this.socket?.close();
    } catch {
      /* already closed */
    }
    this.removeAllListeners();
  }
}
