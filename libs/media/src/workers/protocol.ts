import { DomainError, type ErrorCode, type RoomEventBody, type RoomOptions, type RoomUpdate, type SourceKind, type TileView, type TokenGrants, type VideoCodec } from '@app/core';
import type { LogFields } from '../logger';
import type { RenditionStats } from '../mixer/rendition-encoders';
import type { EncodedFrame } from '../mixer/video-input';
import type { CloseReason } from '../room/publisher';
import type { DeliveryStats, ParticipantView } from '../room/room-views';
import type { RtcNetworkOptions } from '../webrtc/peer-factory';

/**
 * The messages between the main thread (HTTP, WS, orchestration) and a room worker thread (the room's werift peers,
 * mixer, audio mix and fan-out). Plain data only: everything here crosses `postMessage` by structured clone.
 */

/** What a worker needs to host rooms (the same for every room of a node). */
export interface WorkerRoomContext {
  ffmpegPath: string;
  network: RtcNetworkOptions;
  publisherTimeoutMs: number;
  /** A WebRTC session not connected this long after it was set up is closed. */
  connectTimeoutMs?: number;
  maxPublishers: number;
  /** Forward debug-level log lines to the main thread (they are dropped in the worker otherwise). */
  debugLogs: boolean;
}

export interface MixerStateView {
  running: boolean;
  activeSpeaker?: string;
  tiles: Array<TileView & { id: string }>;
  stats?: Record<string, number>;
  renditions?: RenditionStats[];
}

export interface MixerPids {
  encoder?: number;
  encoders: Record<string, number | undefined>;
  decoders: Record<string, number | undefined>;
}

/** A session of the room (for `DELETE` on a WHIP/WHEP resource: who owns it). */
export interface SessionView {
  kind: 'publisher' | 'subscriber';
  id: string;
  identity: string;
  hidden: boolean;
}

/** Everything the main thread reads about a room, pushed by the worker after each change and once a second. */
export interface RoomMediaState {
  options: RoomOptions;
  counts: { publishers: number; subscribers: number; hidden: number; taps: number };
  participants: ParticipantView[];
  sessions: SessionView[];
  delivery: DeliveryStats;
  mixer: MixerStateView;
  pids?: MixerPids;
  /** Date.now() in the room's thread when these figures were read (rates are measured between samples, not scrapes). */
  sampledAt?: number;
}

export const emptyRoomState = (options: RoomOptions): RoomMediaState => ({
  options,
  counts: { publishers: 0, subscribers: 0, hidden: 0, taps: 0 },
  participants: [],
  sessions: [],
  delivery: { byRendition: {}, estimatesKbps: [], totals: { switchesUp: 0, switchesDown: 0, retransmissions: 0, retransmissionsSkipped: 0, nacksReceived: 0, probePacketsOut: 0 } },
  mixer: { running: false, tiles: [] },
});

/** Requests that expect a reply (`id` pairs them). */
export type WorkerRequest =
  | { op: 'createRoom'; room: string; name: string; options: RoomOptions }
  | { op: 'closeRoom'; room: string; reason: CloseReason }
  | { op: 'publish'; room: string; grants: TokenGrants; offer: string; source: SourceKind }
  | { op: 'subscribe'; room: string; grants: TokenGrants; offer: string }
  | { op: 'leave'; room: string; kind: 'publisher' | 'subscriber'; id: string }
  | { op: 'update'; room: string; update: RoomUpdate }
  | { op: 'mute'; room: string; identity: string; audio?: boolean; video?: boolean }
  | { op: 'openTap'; room: string; tap: string; video: boolean }
  | { op: 'closeTap'; room: string; tap: string };

export type ReplyOf<R extends WorkerRequest['op']> = R extends 'publish' | 'subscribe'
  ? { id: string; answer: string }
  : R extends 'update'
    ? RoomOptions
    : R extends 'openTap'
      ? { videoCodec?: VideoCodec }
      : null;

export type MainToWorker =
  | { type: 'init'; ctx: WorkerRoomContext }
  | { type: 'request'; id: number; request: WorkerRequest }
  /** Fault injection for tests: the worker throws an uncaught error on its next turn (only in-process code can send it). */
  | { type: 'crash' };

export interface SerializedError {
  name: string;
  message: string;
  code?: ErrorCode;
  retryAfterSeconds?: number;
}

export interface WorkerLoad {
  /** Event-loop utilisation, 0..1, smoothed (an exponential average of 1 s windows, ~3 s time constant). */
  elu: number;
  /** Longest event-loop delay over the last second, ms. */
  lagMaxMs: number;
  /** The median of the last five 1-second 99th percentiles of the event-loop delay, ms. */
  lagP99Ms: number;
}

export type WorkerToMain =
  | { type: 'ready' }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'event'; room: string; event: RoomEventBody }
  | { type: 'state'; room: string; state: RoomMediaState }
  | { type: 'roomClosed'; room: string; reason: CloseReason }
  | { type: 'tapVideo'; tap: string; frame: EncodedFrame }
  | { type: 'tapAudio'; tap: string; opus: Uint8Array; rtpTimestamp: number }
  | { type: 'tapClosed'; tap: string; reason: string }
  | { type: 'log'; level: 'log' | 'warn' | 'error' | 'debug'; message: string; fields?: LogFields }
  | { type: 'load'; load: WorkerLoad }
  /** An ffmpeg child of this thread started (alive) or exited. */
  | { type: 'child'; pid: number; alive: boolean };

/** Errors cross threads as data: domain errors keep their code (and so their HTTP status). */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof DomainError) {
    return { name: e.name, message: e.message, code: e.code, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message };
}

export function deserializeError(s: SerializedError): Error {
  if (s.code) {
    const e = new DomainError(s.code, s.message, s.retryAfterSeconds);
    e.name = s.name;
    return e;
  }
  const e = new Error(s.message);
  e.name = s.name;
  return e;
}
