import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { encoderArgs, type EncoderArgsOptions } from '../ffmpeg/ffmpeg-args';
import { SupervisedProcess } from '../ffmpeg/supervised-process';
import type { Logger } from '../logger';
import { isRtp, RtpContinuity, startsKeyframe } from '../rtp/rtp-bytes';

export type VideoEncoderOptions = Omit<EncoderArgsOptions, 'rtpPort' | 'payloadType' | 'ssrc'> & { ffmpegPath: string };

/**
 * The room's single video encoder: canvas frames in (stdin), RTP out (loopback UDP), rewritten so that the stream stays
 * continuous across encoder restarts. Never restarted for joins, leaves or layout changes.
 */
export class VideoEncoder extends EventEmitter<{ rtp: [packet: Buffer, keyframeStart: boolean] }> {
  private socket?: Socket;
  private proc?: SupervisedProcess;
  private readonly continuity: RtpContinuity;
  private readonly frameSize: number;
  private readonly pool: Buffer[] = [];
  framesIn = 0;
  framesDropped = 0;
  packetsOut = 0;
  bytesOut = 0;

  constructor(
    private readonly o: VideoEncoderOptions,
    private readonly logger?: Logger,
  ) {
    super();
    this.continuity = new RtpContinuity(90000, (Math.random() * 0xffffffff) >>> 0);
    this.frameSize = o.width * o.height * 1.5;
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
    socket.on('error', (e) => this.logger?.warn(`[encoder] socket error: ${e.message}`));
    const port = socket.address().port;
    const pt = this.o.codec === 'h264' ? 102 : 96;
    socket.on('message', (msg) => {
      if (!isRtp(msg)) return;
      const key = startsKeyframe(msg, this.o.codec);
      this.continuity.rewrite(msg, performance.now());
      this.packetsOut++;
      this.bytesOut += msg.length;
      this.emit('rtp', msg, key);
    });
    this.proc = new SupervisedProcess({
      name: 'encoder',
      command: this.o.ffmpegPath,
      // A fresh SSRC per run lets the continuity rewriter see the restart.
      args: () =>
        encoderArgs({ ...this.o, rtpPort: port, payloadType: pt, ssrc: (Math.random() * 0x7fffffff) >>> 0 }),
      logger: this.logger,
      minBackoffMs: 100,
      maxBackoffMs: 5000,
    });
    this.proc.on('spawn', () => this.continuity.markDiscontinuity());
    this.proc.start();
  }

  /** Queue one canvas frame; dropped (and counted) if the encoder is more than two frames behind. */
  writeFrame(frame: Buffer): void {
    const stdin = this.proc?.stdin;
    if (!stdin || !this.proc?.running || stdin.writableLength > 2 * this.frameSize) {
      this.framesDropped++;
      return;
    }
    this.framesIn++;
    // Copy: the canvas is redrawn in place on the next tick while this write may still be queued. The copies come
    // from a small pool (at most ~3 frames are in flight, see above) and go back to it once written.
    const copy = this.pool.pop() ?? Buffer.allocUnsafe(this.frameSize);
    frame.copy(copy);
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
