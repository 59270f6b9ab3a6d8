import type { Readable } from 'node:stream';
import { decoderArgs, type InputVideoCodec } from '../ffmpeg/ffmpeg-args';
import { SupervisedProcess } from '../ffmpeg/supervised-process';
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

/**
 * One publisher's video into the mix: encoded frames in, the latest decoded tile-sized yuv420p frame out.
 * Owns a small ffmpeg decoder. A resize (layout change) restarts the decoder and replays the frames since the last
 * keyframe, so the tile reappears at its new size at once instead of waiting for the publisher's next keyframe.
 */
export class VideoInput {
  private readonly proc: SupervisedProcess;
  private gop: EncodedFrame[] = [];
  private gopBytes = 0;
  private started = false; // the current decoder has been fed from a keyframe
  private tileW: number;
  private tileH: number;
  private latest?: { data: Buffer; w: number; h: number };
  private generation = 0;
  framesDecoded = 0;
  framesIn = 0;
  lastFrameAt = 0;
  /** When the publisher last sent a frame (a muted camera sends none). */
  lastInputAt = 0;

  constructor(
    readonly id: string,
    private readonly codec: InputVideoCodec,
    ffmpegPath: string,
    tile: { w: number; h: number },
    private readonly padColor: readonly [number, number, number],
    private readonly requestKeyframe: () => void,
    private readonly logger?: Logger,
  ) {
    this.tileW = tile.w;
    this.tileH = tile.h;
    this.proc = new SupervisedProcess({
      name: `decoder ${id}`,
      command: ffmpegPath,
      args: () => decoderArgs({ codec: this.codec, tileWidth: this.tileW, tileHeight: this.tileH, padColor: this.padColor }),
      logger,
      minBackoffMs: 200,
      maxBackoffMs: 5000,
    });
    this.proc.on('spawn', (child) => this.onSpawn(child.stdout));
    this.proc.start();
  }

  get size(): { w: number; h: number } {
    return { w: this.tileW, h: this.tileH };
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

  resize(w: number, h: number): void {
    if (w === this.tileW && h === this.tileH) return;
    this.tileW = w;
    this.tileH = h;
    this.proc.restartNow();
  }

  push(frame: EncodedFrame): void {
    this.framesIn++;
    this.lastInputAt = Date.now();
    if (frame.isKeyframe) {
      this.gop = [];
      this.gopBytes = 0;
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

  private write(frame: EncodedFrame): void {
    const stdin = this.proc.stdin;
    if (!stdin || !this.proc.running) return;
    if (stdin.writableLength > MAX_PENDING_BYTES) {
      this.logger?.warn(`[decoder ${this.id}] decoder is ${stdin.writableLength} bytes behind; restarting it`);
      this.proc.restartNow();
      return;
    }
    if (this.codec === 'vp8') stdin.write(ivfFrameHeader(frame.data.length, frame.timestamp));
    stdin.write(frame.data);
    // The raw H.264 parser only ends an access unit at the next start code: an access unit delimiter ends it now.
    if (this.codec === 'h264') stdin.write(H264_AUD);
  }

  private onSpawn(stdout: Readable): void {
    this.started = false;
    const w = this.tileW;
    const h = this.tileH;
    const frameSize = YuvCanvas.frameSize(w, h);
    // Frame assembly state belongs to this child: a killed predecessor may still flush buffered output.
    // Two buffers per child, filled in turn: the compositor copies `latest` synchronously on its tick, so the other
    // one is free to fill; no allocation per decoded frame.
    const slots = [0, 1].map(() => ({ data: Buffer.allocUnsafe(frameSize), w, h }));
    let slot = 0;
    let fill = 0;
    const generation = ++this.generation;
    stdout.on('data', (chunk: Buffer) => {
      if (generation !== this.generation) return;
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameSize - fill, chunk.length - off);
        chunk.copy(slots[slot].data, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === frameSize) {
          this.latest = slots[slot];
          this.framesDecoded++;
          this.lastFrameAt = Date.now();
          slot ^= 1;
          fill = 0;
        }
      }
    });
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
    this.proc.close();
    this.gop = [];
    this.latest = undefined;
  }
}
