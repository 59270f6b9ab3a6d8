import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Fit, VideoCodec } from '@app/core';
import { decoderArgs } from '../ffmpeg/ffmpeg-args';
import { SupervisedProcess } from '../ffmpeg/supervised-process';
import { exceedsInputCap, type FrameSize, keyframeSize, MAX_INPUT_PIXELS } from '../rtp/frame-size';
import { ivfFileHeader, ivfFrameHeader } from '../rtp/ivf';
import type { Logger } from '../logger';
import { YuvCanvas } from './yuv-canvas';

export interface EncodedFrame {
  data: Buffer;
  isKeyframe: boolean;
  /** RTP timestamp (90 kHz). */
  timestamp: number;
}

/** H.264 access unit delimiter NAL (primary_pic_type 7: any slice type). */
const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const MAX_GOP_FRAMES = 600;
const MAX_GOP_BYTES = 16 * 1024 * 1024;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** Retry interval while the decoder is not listening yet (it opens its output once it has probed its input). */
const CONNECT_RETRY_MS = 10;
const CONNECT_RETRY_SLOW_MS = 50;

/**
 * One publisher's video into the mix: encoded frames in, the latest decoded tile-sized yuv420p frame out.
 * Owns a small ffmpeg decoder that scales to the tile (cover: cropped; contain: letterboxed). A resize (layout change)
 * or a new fit restarts the decoder and replays the frames since the last keyframe, so the tile reappears at its new size at once instead of waiting for the publisher's next keyframe.
 * Decoded frames come over a Unix socket the decoder listens on, read with `onread` straight into two frame buffers:
 * no buffer allocated or copied per read (a stdout pipe would allocate a 64 KB chunk per read, about 40 MB/s for four
 * 640x360 tiles at 30 fps, and that garbage kept the GC busy).
 */
export class VideoInput {
  private readonly proc: SupervisedProcess;
  private gop: EncodedFrame[] = [];
  private gopBytes = 0;
  private started = false; // the current decoder has been fed from a keyframe
  private tileW: number;
  private tileH: number;
  private tileFit: Fit;
  private latest?: { data: Buffer; w: number; h: number };
  private generation = 0;
  private readonly socketDir = mkdtempSync(path.join(tmpdir(), 'mcu-dec-'));
  private socketSeq = 0;
  private socketPath = '';
  private conn?: Socket;
  private closed = false;
  framesDecoded = 0;
  framesIn = 0;
  /** Frames not decoded because the picture is over MAX_INPUT_PIXELS. */
  framesRefused = 0;
  /** The refused picture size while the input is over the cap. */
  refused?: FrameSize;
  lastFrameAt = 0;
  /** When the publisher last sent a frame (a muted camera sends none). */
  lastInputAt = 0;
  /** The publisher's picture size, from its last keyframe that says (undefined until then). */
  sourceSize?: FrameSize;
  /** Called when sourceSize is first known or changes. */
  onSourceSize?: (size: FrameSize) => void;

  constructor(
    readonly id: string,
    private readonly codec: VideoCodec,
    ffmpegPath: string,
    tile: { w: number; h: number; fit?: Fit },
    private readonly padColor: readonly [number, number, number],
    private readonly requestKeyframe: () => void,
    private readonly logger?: Logger,
  ) {
    this.tileW = tile.w;
    this.tileH = tile.h;
    this.tileFit = tile.fit ?? 'contain';
    this.proc = new SupervisedProcess({
      name: `decoder ${id}`,
      command: ffmpegPath,
      args: () => {
        // a killed predecessor that never got its reader leaves its socket file behind
        if (this.socketPath) rmSync(this.socketPath, { force: true });
        this.socketPath = path.join(this.socketDir, `${++this.socketSeq}.sock`);
        return decoderArgs({
          codec: this.codec,
          tileWidth: this.tileW,
          tileHeight: this.tileH,
          fit: this.tileFit,
          padColor: this.padColor,
          unixSocket: this.socketPath,
        });
      },
      logger,
      minBackoffMs: 200,
      maxBackoffMs: 5000,
    });
    this.proc.on('spawn', () => this.onSpawn());
    this.proc.start();
  }

  get size(): { w: number; h: number } {
    return { w: this.tileW, h: this.tileH };
  }

  get fit(): Fit {
    return this.tileFit;
  }

  get restarts(): number {
    return this.proc.restarts;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The latest decoded frame if it has the current tile size. */
  frame(): Buffer | undefined {
    const l = this.latest;
    return l && l.w === this.tileW && l.h === this.tileH ? l.data : undefined;
  }

  /** The latest decoded frame whatever its size (the previous tile size, right after a resize). */
  anyFrame(): { data: Buffer; w: number; h: number } | undefined {
    return this.latest;
  }

  /** A new tile size or fit: the decoder restarts (meanwhile the last frame stands in: see anyFrame). */
  resize(w: number, h: number, fit: Fit = this.tileFit): void {
    if (w === this.tileW && h === this.tileH && fit === this.tileFit) return;
    this.tileW = w;
    this.tileH = h;
    this.tileFit = fit; // same size, other fit: the last frame (old fit) is shown until the new decoder's first one
    this.proc.restartNow();
  }

  push(frame: EncodedFrame): void {
    const size = frame.isKeyframe ? keyframeSize(this.codec, frame.data) : undefined;
    if (size) this.refuseSize(size);
    if (this.refused) {
      // not decoded, not counted as input: the tile shows the participant's placeholder after STALE_VIDEO_MS
      this.framesRefused++;
      return;
    }
    this.framesIn++;
    this.lastInputAt = Date.now();
    if (frame.isKeyframe) {
      this.gop = [];
      this.gopBytes = 0;
      if (size && (size.w !== this.sourceSize?.w || size.h !== this.sourceSize?.h)) {
        this.sourceSize = size;
        this.onSourceSize?.(size);
      }
    }
    if (this.gop.length < MAX_GOP_FRAMES && this.gopBytes + frame.data.length < MAX_GOP_BYTES && (frame.isKeyframe || this.gop.length > 0)) {
      this.gop.push(frame);
      this.gopBytes += frame.data.length;
    } else if (!frame.isKeyframe) {
      this.gop = []; // too long to replay: a restart will ask for a keyframe instead
      this.gopBytes = 0;
    }
    if (!this.started) {
      if (!frame.isKeyframe) return;
      this.started = true;
    }
    this.write(frame);
  }

  /** A keyframe says the picture's size: over the cap, this input is refused until a keyframe within it (logged). */
  private refuseSize(size: FrameSize): void {
    const over = exceedsInputCap(size);
    if (over && (this.refused?.w !== size.w || this.refused?.h !== size.h)) {
      this.logger?.warn(`[decoder ${this.id}] input of ${size.w}x${size.h} refused: over the limit of ${MAX_INPUT_PIXELS} pixels (1920x1080); the tile shows a placeholder`);
    } else if (!over && this.refused) {
      this.logger?.log(`[decoder ${this.id}] input of ${size.w}x${size.h} accepted again`);
    }
    this.refused = over ? size : undefined;
  }

  private write(frame: EncodedFrame): void {
    const stdin = this.proc.stdin;
    if (!stdin || !this.proc.running) return;
    if (stdin.writableLength > MAX_PENDING_BYTES) {
      this.logger?.warn(`[decoder ${this.id}] decoder is ${stdin.writableLength} bytes behind; restarting it`);
      this.proc.restartNow();
      return;
    }
    // One write (writev) per frame: one syscall and one wake-up of the decoder instead of two.
    stdin.cork();
    if (this.codec === 'vp8') stdin.write(ivfFrameHeader(frame.data.length, frame.timestamp));
    stdin.write(frame.data);
    // The raw H.264 parser only ends an access unit at the next start code: an access unit delimiter ends it now.
    if (this.codec === 'h264') stdin.write(H264_AUD);
    stdin.uncork();
  }

  private onSpawn(): void {
    this.started = false;
    const w = this.tileW;
    const h = this.tileH;
    const frameSize = YuvCanvas.frameSize(w, h);
    // Frame assembly state belongs to this child: a killed predecessor's connection is closed.
    // Two buffers per child, filled in turn: the compositor copies `latest` synchronously on its tick, so the other
    // one is free to fill.
    const slots = [0, 1].map(() => ({ data: Buffer.allocUnsafe(frameSize), w, h }));
    let slot = 0;
    let fill = 0;
    const generation = ++this.generation;
    this.conn?.destroy();
    this.conn = undefined;
    const socketPath = this.socketPath;
    const started = Date.now();
    const attempt = () => {
      if (generation !== this.generation || this.closed) return;
      let connected = false;
      const sock = connect({
        path: socketPath,
        onread: {
          // each read lands where the frame being assembled continues
          buffer: () => slots[slot].data.subarray(fill),
          callback: (n: number) => {
            if (generation !== this.generation) return false;
            fill += n;
            if (fill === frameSize) {
              this.latest = slots[slot];
              this.framesDecoded++;
              this.lastFrameAt = Date.now();
              slot ^= 1;
              fill = 0;
            }
            return true;
          },
        },
      });
      sock.once('connect', () => {
        connected = true;
        rmSync(socketPath, { force: true }); // connected: the name is no longer needed
        if (generation === this.generation && !this.closed) this.conn = sock;
        else sock.destroy();
      });
      sock.on('error', () => {
        sock.destroy();
        // not listening yet (it opens its output once it has probed its input): try again while it is the current one
        if (!connected && this.proc.running) setTimeout(attempt, Date.now() - started < 2000 ? CONNECT_RETRY_MS : CONNECT_RETRY_SLOW_MS);
      });
    };
    attempt();
    if (this.codec === 'vp8') this.proc.stdin?.write(ivfFileHeader());
    // Replay the current GOP so the new decoder has a picture at once; otherwise ask the publisher for a keyframe.
    if (this.gop.length > 0 && this.gop[0].isKeyframe) {
      this.started = true;
      for (const f of this.gop) this.write(f);
    } else {
      this.requestKeyframe();
    }
  }

  close(): void {
    this.closed = true;
    this.proc.close();
    this.conn?.destroy();
    this.conn = undefined;
    this.gop = [];
    this.latest = undefined;
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}
