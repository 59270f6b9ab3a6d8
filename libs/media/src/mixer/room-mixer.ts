import { EventEmitter } from 'node:events';
import { gridLayout, type Rect, type RoomOptions } from '@app/core';
import type { InputVideoCodec } from '../ffmpeg/ffmpeg-args';
import type { Logger } from '../logger';
import { AudioMixer } from './audio-mixer';
import { Ticker } from './ticker';
import { VideoEncoder } from './video-encoder';
import { type EncodedFrame, VideoInput } from './video-input';
import { rgbToYuv, YuvCanvas } from './yuv-canvas';

export const BACKGROUND_RGB: [number, number, number] = [32, 32, 40];
export const PLACEHOLDER_RGB: [number, number, number] = [64, 64, 72];

export interface RoomMixerEvents {
  videoRtp: [packet: Buffer, keyframeStart: boolean];
  /** One 20 ms audio step: encoded Opus per variant. */
  audio: [payloads: Map<string, Buffer>];
  layout: [tiles: Array<{ id: string; rect: Rect }>];
}

/**
 * The mixer of one room: per-publisher decoders feeding a canvas composed on a fixed clock, one encoder that never
 * restarts for joins or leaves, and the audio mix with mix-minus variants. Output is fanned out by packet.
 */
export class RoomMixer extends EventEmitter<RoomMixerEvents> {
  private readonly inputs = new Map<string, VideoInput>(); // insertion order = join order
  private tiles: Array<{ id: string; rect: Rect }> = [];
  private readonly canvas: YuvCanvas;
  private readonly encoder: VideoEncoder;
  readonly audio: AudioMixer;
  private readonly videoClock: Ticker;
  private readonly audioClock: Ticker;
  private readonly bg = rgbToYuv(BACKGROUND_RGB);
  private readonly placeholder = rgbToYuv(PLACEHOLDER_RGB);
  private closed = false;
  framesComposed = 0;

  constructor(
    private readonly options: RoomOptions,
    private readonly ffmpegPath: string,
    private readonly logger?: Logger,
  ) {
    super();
    this.canvas = new YuvCanvas(options.width, options.height);
    this.canvas.fill({ x: 0, y: 0, w: options.width, h: options.height }, this.bg);
    this.encoder = new VideoEncoder(
      {
        codec: options.videoCodec,
        width: options.width,
        height: options.height,
        fps: options.fps,
        bitrateKbps: options.videoBitrateKbps,
        // ffmpeg cannot force a keyframe when a subscriber joins or sends a PLI, so the mix has one every 0.5 s:
        // a new subscriber waits at most that long (plus ICE and DTLS) for its first picture.
        gop: Math.max(1, Math.round(options.fps / 2)),
        ffmpegPath,
      },
      logger,
    );
    this.encoder.on('rtp', (p, k) => this.emit('videoRtp', p, k));
    this.audio = new AudioMixer(options.audioBitrateKbps);
    this.videoClock = new Ticker(1000 / options.fps, () => this.composeFrame());
    this.audioClock = new Ticker(20, () => this.mixAudio());
  }

  async start(): Promise<void> {
    await this.encoder.start();
    this.videoClock.begin();
    this.audioClock.begin();
  }

  addVideo(id: string, codec: InputVideoCodec, requestKeyframe: () => void): void {
    if (this.closed || this.inputs.has(id)) return;
    const rects = gridLayout(this.inputs.size + 1, this.options.width, this.options.height);
    const rect = rects[rects.length - 1];
    this.inputs.set(id, new VideoInput(id, codec, this.ffmpegPath, rect, BACKGROUND_RGB, requestKeyframe, this.logger));
    this.relayout();
  }

  removeVideo(id: string): void {
    const input = this.inputs.get(id);
    if (!input) return;
    input.close();
    this.inputs.delete(id);
    this.relayout();
  }

  pushVideo(id: string, frame: EncodedFrame): void {
    this.inputs.get(id)?.push(frame);
  }

  addAudio(id: string, identity: string): void {
    this.audio.addInput(id, identity);
  }

  removeAudio(id: string): void {
    this.audio.removeInput(id);
  }

  pushAudio(id: string, opus: Buffer): void {
    this.audio.push(id, opus);
  }

  private relayout(): void {
    const ids = [...this.inputs.keys()];
    const rects = gridLayout(ids.length, this.options.width, this.options.height);
    this.tiles = ids.map((id, i) => ({ id, rect: rects[i] }));
    for (const t of this.tiles) this.inputs.get(t.id)?.resize(t.rect.w, t.rect.h);
    this.canvas.fill({ x: 0, y: 0, w: this.options.width, h: this.options.height }, this.bg);
    this.logger?.log(`layout: ${ids.length} tile(s) ${this.tiles.map((t) => `${t.id}@${t.rect.x},${t.rect.y} ${t.rect.w}x${t.rect.h}`).join('; ')}`);
    this.emit('layout', this.tiles);
  }

  private composeFrame(): void {
    for (const { id, rect } of this.tiles) {
      const input = this.inputs.get(id);
      const frame = input?.frame();
      if (frame) this.canvas.blit(frame, rect.w, rect.h, rect.x, rect.y);
      else this.canvas.fill(rect, this.placeholder);
    }
    this.framesComposed++;
    this.encoder.writeFrame(this.canvas.data);
  }

  private mixAudio(): void {
    this.emit('audio', this.audio.tick());
  }

  /** Per-publisher decoder counters. */
  inputStats(): Record<string, { framesIn: number; framesDecoded: number; restarts: number }> {
    return Object.fromEntries([...this.inputs].map(([id, i]) => [id, { framesIn: i.framesIn, framesDecoded: i.framesDecoded, restarts: i.restarts }]));
  }

  /** PIDs of the mixer's ffmpeg children (for supervision tests and diagnostics). */
  pids(): { encoder?: number; decoders: Record<string, number | undefined> } {
    return { encoder: this.encoder.pid, decoders: Object.fromEntries([...this.inputs].map(([id, i]) => [id, i.pid])) };
  }

  layout(): Array<{ id: string; rect: Rect }> {
    return this.tiles;
  }

  stats(): Record<string, number> {
    let decoderRestarts = 0;
    for (const i of this.inputs.values()) decoderRestarts += i.restarts;
    return {
      framesComposed: this.framesComposed,
      framesEncoded: this.encoder.framesIn,
      framesDropped: this.encoder.framesDropped + this.videoClock.skipped,
      encoderRestarts: this.encoder.restarts,
      decoderRestarts,
      rtpPacketsOut: this.encoder.packetsOut,
      rtpBytesOut: this.encoder.bytesOut,
      audioFramesMixed: this.audio.framesMixed,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.videoClock.stop();
    this.audioClock.stop();
    for (const i of this.inputs.values()) i.close();
    this.inputs.clear();
    this.encoder.close();
    this.audio.close();
    this.removeAllListeners();
  }
}
