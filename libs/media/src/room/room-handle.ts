import { EventEmitter } from 'node:events';
import { ladderOf, NotFoundError, type RenditionSpec, RoomClosedError, type RoomEventBody, type RoomOptions, type RoomUpdate, type SourceKind, type TokenGrants } from '@app/core';
import type { Logger } from '../logger';
import type { MediaWorker } from '../workers/media-worker-pool';
import { emptyRoomState, type MixerPids, type MixerStateView, type RoomMediaState, type SessionView, type WorkerToMain } from '../workers/protocol';
import type { CloseReason } from './publisher';
import type { DeliveryStats, ParticipantView } from './room-views';
import { RemoteMixTap } from './remote-mix-tap';

export interface RoomEvents {
  /** What the room's event stream reports (participants, tracks, active speaker, layout). */
  event: [event: RoomEventBody];
  closed: [reason: CloseReason];
}

export interface RoomHandleContext {
  /** A live worker for this room (the manager picks one, registers the room's key and sends `createRoom`). */
  attach(handle: RoomHandle): MediaWorker;
  /** A tap was opened: route its frames to it. */
  registerTap(id: string, tap: RemoteMixTap): void;
  logger?: Logger;
}

let nextKey = 1;
let nextTap = 1;

/** Applies a layout/pinned/labels/fit update to room options (what the worker's room does too). */
export function applyRoomUpdate(o: RoomOptions, u: RoomUpdate): RoomOptions {
  const next: RoomOptions = { ...o };
  if (u.layout !== undefined) next.layout = u.layout;
  if (u.displayNames !== undefined) next.displayNames = u.displayNames;
  if (u.fit !== undefined) next.fit = u.fit;
  if (u.pinnedIdentity === null) delete next.pinnedIdentity;
  else if (u.pinnedIdentity !== undefined) next.pinnedIdentity = u.pinnedIdentity;
  return next;
}

/**
 * A room as the main thread sees it: its name and options, and a mirror of what its worker thread reports (sessions,
 * participants, mixer, delivery), refreshed after every change and once a second. Joins, leaves, layout changes and
 * taps are messages to the worker. If the worker dies, the room stays: its participants are reported gone, and the
 * next join starts its media again on a live worker.
 */
export class RoomHandle extends EventEmitter<RoomEvents> {
  readonly createdAt = new Date();
  private opts: RoomOptions;
  private state: RoomMediaState;
  private worker?: MediaWorker;
  /** This incarnation's id in its worker (a room re-created after a worker loss gets a new one). */
  key = '';
  private closed = false;
  /** Settles when the worker has stopped this room's media (after `close()`). */
  closing: Promise<void> = Promise.resolve();
  private readonly taps = new Set<RemoteMixTap>();

  constructor(
    readonly name: string,
    options: RoomOptions,
    private readonly ctx: RoomHandleContext,
  ) {
    super();
    this.opts = { ...options };
    this.state = emptyRoomState(this.opts);
    this.bind();
  }

  private bind(): MediaWorker {
    this.key = `${this.name}#${nextKey++}`;
    this.state = emptyRoomState(this.opts);
    this.worker = this.ctx.attach(this);
    return this.worker;
  }

  private live(): MediaWorker {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    return this.worker && !this.worker.isDead ? this.worker : this.bind();
  }

  get workerIndex(): number | undefined {
    return this.worker?.index;
  }

  get options(): RoomOptions {
    return this.opts;
  }

  get ladder(): readonly RenditionSpec[] {
    return ladderOf(this.opts);
  }

  get activeSpeaker(): string | undefined {
    return this.state.mixer.activeSpeaker;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Changes the layout, pinned identity or name labels; the composite follows on its next frame. */
  update(u: RoomUpdate): RoomOptions {
    const w = this.live();
    this.opts = applyRoomUpdate(this.opts, u);
    w.request({ op: 'update', room: this.key, update: u }).catch((e: Error) => this.ctx.logger?.warn(`[room ${this.name}] update failed in its worker: ${e.message}`, { room: this.name }));
    return this.opts;
  }

  /** A participant's microphone/camera mute state, as it says (404 when it publishes no camera session here). */
  async setMuted(identity: string, m: { audio?: boolean; video?: boolean }): Promise<void> {
    await this.live().request({ op: 'mute', room: this.key, identity, ...m });
  }

  async publish(grants: TokenGrants, offer: string, source: SourceKind = 'camera'): Promise<{ id: string; answer: string }> {
    return this.live().request({ op: 'publish', room: this.key, grants, offer, source });
  }

  async subscribe(grants: TokenGrants, offer: string): Promise<{ id: string; answer: string }> {
    return this.live().request({ op: 'subscribe', room: this.key, grants, offer });
  }

  /** The mix as frames and Opus packets (a recorder or HLS inside this process), like a hidden subscriber without WebRTC. */
  async tap(o: { video: boolean }): Promise<RemoteMixTap> {
    const w = this.live();
    const id = `tap-${nextTap++}`;
    const tap = new RemoteMixTap(id, () => {
      this.taps.delete(tap);
      if (!w.isDead) w.request({ op: 'closeTap', room: this.key, tap: id }).catch(() => undefined);
    });
    this.ctx.registerTap(id, tap);
    this.taps.add(tap);
    try {
      const { videoCodec } = await w.request({ op: 'openTap', room: this.key, tap: id, video: o.video });
      tap.videoCodec = videoCodec;
    } catch (e) {
      this.taps.delete(tap);
      tap.end((e as Error).message);
      throw e;
    }
    if (this.closed) throw new RoomClosedError(this.name); // close() ended the tap meanwhile
    return tap;
  }

  resource(kind: 'publisher' | 'subscriber', id: string): SessionView | undefined {
    return this.state.sessions.find((s) => s.kind === kind && s.id === id);
  }

  async leave(kind: 'publisher' | 'subscriber', id: string): Promise<void> {
    await this.live().request({ op: 'leave', room: this.key, kind, id });
  }

  participants(): ParticipantView[] {
    return this.state.participants;
  }

  deliveryStats(): DeliveryStats {
    return this.state.delivery;
  }

  mixerState(): MixerStateView {
    return this.state.mixer;
  }

  mixerPids(): MixerPids | undefined {
    return this.state.pids;
  }

  /** When the room's thread read the figures above (undefined before its first report). */
  sampledAt(): number | undefined {
    return this.state.sampledAt;
  }

  /** Visible participants (hidden recorder/livestream subscribers do not count). */
  get counts(): { publishers: number; subscribers: number } {
    return { publishers: this.state.counts.publishers, subscribers: this.state.counts.subscribers };
  }

  /** Sessions of any kind, hidden subscribers and in-process taps included. */
  get sessionCount(): number {
    const c = this.state.counts;
    return c.publishers + c.subscribers + c.hidden + c.taps;
  }

  get isEmpty(): boolean {
    const c = this.state.counts;
    return c.publishers === 0 && c.subscribers === 0;
  }

  /** A message from this room's worker (routed here by the manager). */
  onWorkerMessage(m: WorkerToMain): void {
    if (this.closed) return;
    if (m.type === 'state') this.state = m.state;
    else if (m.type === 'event') this.emit('event', m.event);
    else if (m.type === 'roomClosed') this.close(m.reason, false);
  }

  /**
   * The worker died with this room in it: everyone in the room is reported gone, taps end (the pool kills the ffmpeg
   * children the thread left), and the room's media starts again on a live worker (empty, ready for the next join).
   */
  onWorkerLost(reason: string): void {
    if (this.closed) return;
    const before = this.state;
    this.ctx.logger?.warn(`[room ${this.name}] its media worker died (${reason}): ${before.sessions.length} session(s) ended; the room is open for joins again`, { room: this.name });
    for (const t of [...this.taps]) t.end(`the room's media worker died (${reason})`);
    this.taps.clear();
    for (const p of before.participants) this.emit('event', { type: 'participantLeft', participant: { identity: p.identity }, reason: 'media_worker_failed' });
    this.bind();
    if (before.mixer.running) {
      this.emit('event', { type: 'layoutChanged', layout: this.opts.layout, pinnedIdentity: this.opts.pinnedIdentity ?? null, width: this.opts.width, height: this.opts.height, tiles: [] });
    }
  }

  close(reason: CloseReason = 'room_closed', tellWorker = true): void {
    if (this.closed) return;
    this.closed = true;
    if (tellWorker && this.worker && !this.worker.isDead) {
      this.closing = this.worker.request({ op: 'closeRoom', room: this.key, reason }).then(
        () => undefined,
        () => undefined,
      );
    }
    for (const t of [...this.taps]) t.end(`room closed: ${reason}`);
    this.taps.clear();
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
