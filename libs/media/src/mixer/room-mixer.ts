import { EventEmitter } from 'node:events';
import { ActiveSpeakerDetector, compositeLayout, type Fit, type LayoutName, type RenditionSpec, type PlacedTile, type Rect, type RoomOptions, type SourceKind, visibleRect } from '@app/core';
import type { VideoCodec } from '@app/core';
import type { Logger } from '../logger';
import { AudioMixer } from './audio-mixer';
import { type Label, label, LabelRenderer } from './label-renderer';
import { Ticker } from './ticker';
import { RenditionEncoders } from './rendition-encoders';
import { type EncodedFrame, VideoInput } from './video-input';
import { rgbToYuv, YuvCanvas } from './yuv-canvas';

export const BACKGROUND_RGB: [number, number, number] = [32, 32, 40];
export const PLACEHOLDER_RGB: [number, number, number] = [64, 64, 72];
const LABEL_RGB: [number, number, number] = [16, 16, 20];
/** A tile whose publisher sent no video for this long (camera off, muted) shows the placeholder, not a frozen frame. */
export const STALE_VIDEO_MS = 1500;
/**
 * Longest time between two keyframes of a rendition nobody asks keyframes of. Subscribers get one on request (joining,
 * switching, PLI), so the GOP can be long; outputs that cut segments shorten it on high (see setKeyframeInterval).
 */
export const KEYFRAME_INTERVAL_MS = 4000;

const floorEven = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);
const even = (v: number): number => Math.max(2, floorEven(v));

export interface RoomMixerEvents {
  /** An RTP packet of one rendition's encoded mix. */
  videoRtp: [rendition: string, packet: Buffer, keyframeStart: boolean];
  /** One 20 ms audio step: encoded Opus per variant. */
  audio: [payloads: Map<string, Buffer>];
  layout: [tiles: MixerTile[]];
  activeSpeaker: [identity: string | undefined];
}

export interface MixerTile extends PlacedTile {
  identity: string;
  kind: SourceKind;
}

/** A label and where it goes: worked out once per layout, drawn on every frame. */
interface PlacedLabel {
  label: Label;
  x: number;
  y: number;
}

interface ComposedTile extends MixerTile {
  /** The name in a bar at the bottom-left of the picture (not on a band), over video (when names are on). */
  bar?: PlacedLabel;
  /** The name centred on the placeholder. */
  centred?: PlacedLabel;
}

/**
 * Where a tile's name label goes and its size: a bar at the bottom-left of `rect` (the visible picture of the tile), or
 * centred on it (the placeholder: the whole tile).
 */
export function placeLabel(text: string, rect: Rect, centred: boolean): { x: number; y: number; w: number; h: number } {
  // a placeholder's name is all its tile shows: larger (the grid's 16:9 tiles are lower than the old full-height cells)
  const h = Math.min(even(Math.max(16, rect.h * (centred ? 0.18 : 0.07))), 48, rect.h);
  const w = Math.min(rect.w, even(h * 0.62 * 0.62 * [...text].length + h));
  const x = centred ? rect.x + floorEven((rect.w - w) / 2) : rect.x;
  const y = centred ? rect.y + floorEven((rect.h - h) / 2) : rect.y + rect.h - h;
  return { x, y, w, h };
}

/** `entries` with [key, value] placed just before `before` (its place in the order), or at the end without it (pure). */
export function insertBefore<K, V>(entries: Array<[K, V]>, key: K, value: V, before?: K): Array<[K, V]> {
  const i = before === undefined ? -1 : entries.findIndex(([k]) => k === before);
  return i < 0 ? [...entries, [key, value]] : [...entries.slice(0, i), [key, value], ...entries.slice(i)];
}

/**
 * Where a tile's picture is on the canvas: the whole tile when it covers; inside the bands when it contains (a source of
 * unknown size is taken as 16:9). The name bar goes at its bottom-left, on the picture rather than on a band.
 */
export function pictureRect(tile: Rect, fit: Fit, source?: { w: number; h: number }): Rect {
  const v = visibleRect(fit, source?.w ?? 0, source?.h ?? 0, tile.w, tile.h);
  return { x: tile.x + v.x, y: tile.y + v.y, w: v.w, h: v.h };
}

/** Something with a tile: a publisher's camera (with or without video: then a placeholder) or screen share. */
export interface MixerSource {
  id: string;
  identity: string;
  displayName?: string;
  kind: SourceKind;
  codec?: VideoCodec;
  requestKeyframe?: () => void;
}

export interface LayoutState {
  layout: LayoutName;
  pinnedIdentity?: string;
  displayNames: boolean;
  /** How camera tiles are filled (screen shares always contain). */
  fit: Fit;
}

/** The mixer's counters since it started (GET /v1/rooms/{name}'s `mixer.stats`, /metrics). */
// a type, not an interface: it is also a Record<string, number> where room views carry it
export type MixerCounters = {
  framesComposed: number;
  framesEncoded: number;
  framesDropped: number;
  framesDroppedByEncoder: number;
  ticksSkipped: number;
  encoderRestarts: number;
  decoderRestarts: number;
  rtpPacketsOut: number;
  rtpBytesOut: number;
  audioFramesMixed: number;
};

/**
 * The mixer of one room: per-publisher decoders feeding a canvas composed on a fixed clock, encoded once per rendition
 * of the ladder (high always; lower rungs while someone uses them) by encoders that never restart for joins, leaves or
 * layout changes, and the audio mix with mix-minus variants and active speaker detection.
 * Output is fanned out by packet.
 */
export class RoomMixer extends EventEmitter<RoomMixerEvents> {
  private readonly sources = new Map<string, MixerSource & { input?: VideoInput }>(); // insertion order = join order
  private tiles: ComposedTile[] = [];
  private readonly canvas: YuvCanvas;
  readonly renditions: RenditionEncoders;
  readonly audio: AudioMixer;
  private readonly speakers = new ActiveSpeakerDetector();
  /** Reused every 20 ms audio tick. */
  private readonly levelsByIdentity = new Map<string, number>();
  private readonly labels: LabelRenderer;
  private readonly videoClock: Ticker;
  private readonly audioClock: Ticker;
  private readonly bg = rgbToYuv(BACKGROUND_RGB);
  private readonly placeholder = rgbToYuv(PLACEHOLDER_RGB);
  private state: LayoutState;
  private closed = false;
  framesComposed = 0;

  constructor(
    private readonly options: RoomOptions,
    ladder: readonly RenditionSpec[],
    private readonly ffmpegPath: string,
    private readonly logger?: Logger,
  ) {
    super();
    // a room stored before `fit` existed has none: cover, the default
    this.state = { layout: options.layout, pinnedIdentity: options.pinnedIdentity, displayNames: options.displayNames, fit: options.fit ?? 'cover' };
    this.canvas = new YuvCanvas(options.width, options.height);
    this.canvas.fill({ x: 0, y: 0, w: options.width, h: options.height }, this.bg);
    this.renditions = new RenditionEncoders(
      {
        ladder,
        codec: options.videoCodec,
        canvasWidth: options.width,
        canvasHeight: options.height,
        clockFps: options.fps,
        ffmpegPath,
        keyframeIntervalMs: KEYFRAME_INTERVAL_MS,
      },
      logger,
    );
    this.renditions.on('rtp', (r, p, k) => this.emit('videoRtp', r, p, k));
    this.audio = new AudioMixer(options.audioBitrateKbps);
    this.labels = new LabelRenderer(ffmpegPath, logger);
    this.videoClock = new Ticker(1000 / options.fps, () => this.composeFrame());
    this.audioClock = new Ticker(20, () => this.mixAudio());
  }

  async start(): Promise<void> {
    await this.renditions.start();
    this.videoClock.begin();
    this.audioClock.begin();
  }

  /**
   * Adds a tile: with `codec`, a decoder for its video; without, a placeholder with the name (audio-only). A session
   * that `replaces` another (the same identity reconnecting) takes that one's place in the join order, so a participant
   * who reconnects keeps their tile where it was instead of moving to the end; the replaced tile goes in the same step
   * (one relayout, the other tiles keep their size and decoders), and its later removeSource is a no-op.
   */
  addSource(s: MixerSource, replaces?: string): void {
    if (this.closed || this.sources.has(s.id)) return;
    const entry: MixerSource & { input?: VideoInput } = { ...s };
    const ordered = insertBefore([...this.sources], s.id, entry, replaces).filter(([k]) => k !== replaces);
    const replaced = replaces === undefined ? undefined : this.sources.get(replaces);
    if (replaced) {
      replaced.input?.close();
      this.standIns.delete(replaces!);
    }
    this.sources.clear();
    for (const [k, v] of ordered) this.sources.set(k, v);
    if (s.codec) {
      // the decoder starts at the size and fit its tile will have, so the relayout below does not restart it
      const tile = this.computeTiles().find((t) => t.id === s.id);
      const size = tile ? { w: tile.rect.w, h: tile.rect.h, fit: tile.fit } : { w: even(this.options.width / 4), h: even(this.options.height / 4) };
      entry.input = new VideoInput(s.id, s.codec, this.ffmpegPath, size, BACKGROUND_RGB, s.requestKeyframe ?? (() => undefined), this.logger);
      // where the picture is in a contain tile depends on its size: the label follows
      entry.input.onSourceSize = () => this.relabel(s.id);
    }
    this.relayout();
  }

  removeSource(id: string): void {
    this.standIns.delete(id);
    const s = this.sources.get(id);
    if (!s) return;
    s.input?.close();
    this.sources.delete(id);
    this.relayout();
  }

  pushVideo(id: string, frame: EncodedFrame): void {
    this.sources.get(id)?.input?.push(frame);
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

  get layoutState(): LayoutState {
    return { ...this.state };
  }

  get activeSpeaker(): string | undefined {
    return this.speakers.current;
  }

  setLayout(patch: Partial<LayoutState>): void {
    this.state = { ...this.state, ...patch };
    this.relayout(true);
  }

  private computeTiles(): MixerTile[] {
    const placed = compositeLayout({
      layout: this.state.layout,
      sources: [...this.sources.values()],
      activeIdentity: this.speakers.current,
      pinnedIdentity: this.state.pinnedIdentity,
      width: this.options.width,
      height: this.options.height,
      fit: this.state.fit,
    });
    return placed.map((t) => {
      const s = this.sources.get(t.id)!;
      return { ...t, identity: s.identity, kind: s.kind };
    });
  }

  private relayout(force = false): void {
    if (this.closed) return;
    const tiles = this.computeTiles();
    const same = tiles.length === this.tiles.length && tiles.every((t, i) => t.id === this.tiles[i].id && t.fit === this.tiles[i].fit && sameRect(t.rect, this.tiles[i].rect));
    if (same && !force) return;
    this.tiles = tiles.map((t) => this.withLabels(t));
    for (const t of tiles) this.sources.get(t.id)?.input?.resize(t.rect.w, t.rect.h, t.fit);
    this.canvas.fill({ x: 0, y: 0, w: this.options.width, h: this.options.height }, this.bg);
    this.logger?.log(`layout ${this.state.layout}: ${tiles.length} tile(s) ${tiles.map((t) => `${t.identity}/${t.kind}@${t.rect.x},${t.rect.y} ${t.rect.w}x${t.rect.h} ${t.fit}`).join('; ')}`);
    this.emit('layout', tiles);
  }

  /** The labels of one tile again (its picture's size became known or changed). */
  private relabel(id: string): void {
    this.tiles = this.tiles.map((t) => {
      if (t.id !== id) return t;
      const { bar: _bar, centred: _centred, ...tile } = t;
      return this.withLabels(tile);
    });
  }

  private withLabels(t: MixerTile): ComposedTile {
    const s = this.sources.get(t.id);
    const name = s?.displayName || s?.identity || '';
    if (!name) return t;
    const picture = pictureRect(t.rect, t.fit, s?.input?.sourceSize);
    const placed = (text: string, centred: boolean): PlacedLabel => {
      const { x, y, w, h } = placeLabel(text, centred ? t.rect : picture, centred);
      return { label: label(text, w, h, centred ? PLACEHOLDER_RGB : LABEL_RGB), x, y };
    };
    return {
      ...t,
      centred: placed(name, true),
      ...(this.state.displayNames ? { bar: placed(t.kind === 'screen' ? `${name} (screen)` : name, false) } : {}),
    };
  }

  /**
   * A restarting decoder's last frame, scaled to its new tile once and then copied each tick: scaling in JavaScript on
   * every tick cost 20–60 ms per tile per frame and stalled the room's clock while a join relaid every tile out.
   */
  private readonly standIns = new Map<string, { key: string; data: Buffer }>();
  private standIn(id: string, decoded: number, prev: { data: Buffer; w: number; h: number }, w: number, h: number): Buffer {
    const key = `${decoded}:${prev.w}x${prev.h}>${w}x${h}`;
    const hit = this.standIns.get(id);
    if (hit?.key === key) return hit.data;
    const data = YuvCanvas.scaled(prev.data, prev.w, prev.h, w, h);
    this.standIns.set(id, { key, data });
    return data;
  }

  private composeFrame(): void {
    const now = Date.now();
    for (const tile of this.tiles) {
      const rect = tile.rect;
      const input = this.sources.get(tile.id)?.input;
      const fresh = input !== undefined && now - input.lastInputAt < STALE_VIDEO_MS;
      const frame = fresh ? input.frame() : undefined;
      // right after a layout change the decoder restarts at the new size: show its last frame scaled meanwhile
      const previous = fresh && !frame ? input.anyFrame() : undefined;
      if (frame) {
        this.canvas.blit(frame, rect.w, rect.h, rect.x, rect.y);
        this.standIns.delete(tile.id);
      } else if (previous) this.canvas.blit(this.standIn(tile.id, input!.framesDecoded, previous, rect.w, rect.h), rect.w, rect.h, rect.x, rect.y);
      else this.canvas.fill(rect, this.placeholder);
      this.drawLabel(frame || previous ? tile.bar : tile.centred);
    }
    this.renditions.writeFrame(this.canvas.data, this.framesComposed++);
  }

  private drawLabel(p: PlacedLabel | undefined): void {
    const pixels = p && this.labels.get(p.label);
    if (p && pixels) this.canvas.blit(pixels, p.label.w, p.label.h, p.x, p.y);
  }

  private mixAudio(): void {
    this.emit('audio', this.audio.tick());
    const byIdentity = this.levelsByIdentity;
    byIdentity.clear();
    for (const [, { identity, level }] of this.audio.inputLevels()) byIdentity.set(identity, Math.max(level, byIdentity.get(identity) ?? 0));
    const change = this.speakers.update(byIdentity, Date.now());
    if (change === null) return;
    this.logger?.log(`active speaker: ${change ?? 'none'}`);
    this.emit('activeSpeaker', change);
    if (this.state.layout !== 'grid') this.relayout();
  }

  /** Per-publisher decoder counters. */
  inputStats(): Record<string, { framesIn: number; framesDecoded: number; restarts: number }> {
    const out: Record<string, { framesIn: number; framesDecoded: number; restarts: number }> = {};
    for (const [id, { input: i }] of this.sources) if (i) out[id] = { framesIn: i.framesIn, framesDecoded: i.framesDecoded, restarts: i.restarts };
    return out;
  }

  /** PIDs of the mixer's ffmpeg children (for supervision tests and diagnostics). */
  pids(): { encoder?: number; encoders: Record<string, number | undefined>; decoders: Record<string, number | undefined> } {
    const decoders: Record<string, number | undefined> = {};
    for (const [id, { input }] of this.sources) if (input) decoders[id] = input.pid;
    const encoders: Record<string, number | undefined> = {};
    for (const r of this.renditions.ladder) if (this.renditions.isRunning(r.name)) encoders[r.name] = this.renditions.encoder(r.name)?.pid;
    return { encoder: encoders[this.renditions.high], encoders, decoders };
  }

  layout(): MixerTile[] {
    return this.tiles;
  }

  stats(): MixerCounters {
    let decoderRestarts = 0;
    for (const { input } of this.sources.values()) decoderRestarts += input?.restarts ?? 0;
    const high = this.renditions.encoder(this.renditions.high);
    return {
      framesComposed: this.framesComposed,
      framesEncoded: high?.framesIn ?? 0,
      framesDropped: (high?.framesDropped ?? 0) + this.videoClock.skipped,
      framesDroppedByEncoder: high?.framesDropped ?? 0,
      ticksSkipped: this.videoClock.skipped,
      encoderRestarts: high?.restarts ?? 0,
      decoderRestarts,
      rtpPacketsOut: high?.packetsOut ?? 0,
      rtpBytesOut: high?.bytesOut ?? 0,
      audioFramesMixed: this.audio.framesMixed,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.videoClock.stop();
    this.audioClock.stop();
    for (const { input } of this.sources.values()) input?.close();
    this.sources.clear();
    this.renditions.close();
    this.audio.close();
    this.labels.close();
    this.removeAllListeners();
  }
}

const sameRect = (a: Rect, b: Rect): boolean => a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
