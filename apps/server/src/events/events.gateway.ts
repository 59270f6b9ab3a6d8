import type { IncomingMessage } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { CapacityError, DomainError, nonOverlapping, NotFoundError, type TokenGrants, verifyRoomToken } from '@app/core';
import type { AppConfig } from '@app/config';
import type { RoomEventPublisher, RoomEventSubscriber } from '@app/jobs';
import { logLine, RoomManager } from '@app/media';
import { AdmissionService } from '../admission/admission.service';
import { ClusterService } from '../cluster/cluster.service';
import { ROOM_EVENT_PUBLISHER, ROOM_EVENT_SUBSCRIBER } from '../recordings/jobs.providers';
import { MetricsService } from '../metrics/metrics.service';
import { roomTokenKeys } from '../http/room-token-keys';
import { APP_CONFIG } from '../tokens';
import { EventSender, parseClientFrame } from './event-client';
import { pathPattern } from './events-ws.adapter';
import { RoomEventsService, type RoomSnapshot } from './room-events.service';

export const EVENTS_PATH = '/v1/rooms/:name/events';
const AUTH_TIMEOUT_MS = 5000;
/**
 * Close codes: 4401 unauthorized (any room name: nothing about a room is said before authentication), 4403 forbidden,
 * 4404 no such room (only to a valid token of that room), 4429 the identity has MAX_EVENT_CLIENTS_PER_IDENTITY sockets
 * here already, 4008 too slow, 4410 room deleted, 1012 (service restart) the node shuts down (its rooms are not
 * deleted: reconnect), 1013 (try again later) the room has MAX_EVENT_CLIENTS_PER_ROOM clients.
 */
const CLOSE = { unauthorized: 4401, forbidden: 4403, notFound: 4404, tooMany: 4429, roomDeleted: 4410, restarting: 1012, tryAgainLater: 1013 } as const;
/** Heartbeats a socket may leave unanswered; at the next one it is terminated (a half-open socket: its peer is gone). */
const MAX_MISSED_PONGS = 2;
const SEQ_RE = /^\{"seq":(\d+)/;

interface Client {
  ws: WebSocket;
  room: string;
  /** Set once its token is verified (synchronously): it counts against MAX_EVENT_CLIENTS_PER_IDENTITY from then on. */
  identity?: string;
  /** Its token may publish: it may say it muted its microphone or camera. */
  canPublish?: boolean;
  sender: EventSender;
  /** The room exists and the client counts against MAX_EVENT_CLIENTS_PER_ROOM. */
  admitted?: boolean;
  unsubscribe?: () => void;
  /** Events are sent on as they come; while a snapshot is being made they wait in `pending`. */
  live: boolean;
  pending: string[];
  /** Server pings sent since its last pong. */
  missedPongs: number;
}

/**
 * `GET /v1/rooms/{name}/events` upgraded to a WebSocket. Authenticated by a room token (`?token=` or a first frame
 * `{"type":"auth","token"}` within 5 s). On success the client gets `{"type":"snapshot", seq, ...}`, then every event of
 * the room as published on the Redis event bus, in `seq` order. Bad frames get `{"type":"error", code, message}`.
 */
@WebSocketGateway({ path: EVENTS_PATH })
export class EventsGateway implements OnGatewayConnection, OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventsGateway');
  private readonly clients = new Set<Client>();
  private readonly pattern = pathPattern(EVENTS_PATH);
  private slowDropped = 0;
  private heartbeat?: NodeJS.Timeout;
  /** From SIGTERM (app.close()) on, rooms closing here are not deleted: their clients hear "restarting", not 4410. */
  private shuttingDown = false;

  constructor(
    private readonly rooms: RoomManager,
    private readonly events: RoomEventsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOM_EVENT_PUBLISHER) private readonly publisher: RoomEventPublisher,
    @Inject(ROOM_EVENT_SUBSCRIBER) private readonly subscriber: RoomEventSubscriber,
    private readonly metrics: MetricsService,
    private readonly admission: AdmissionService,
    private readonly cluster: ClusterService,
  ) {}

  onModuleInit(): void {
    this.admission.countEventClientsWith((room) => {
      let n = 0;
      for (const c of this.clients) if (c.admitted && c.room === room) n++;
      return n;
    });
    const gauge = this.metrics.gauge('mcu_events_clients', 'WebSocket clients of the events gateway, by room', ['room']);
    const dropped = this.metrics.absoluteCounter('mcu_events_slow_clients_dropped_total', 'events clients disconnected for not reading');
    this.metrics.onScrape('events', () => {
      gauge.reset();
      const perRoom = new Map<string, number>();
      for (const c of this.clients) if (c.admitted) perRoom.set(c.room, (perRoom.get(c.room) ?? 0) + 1);
      for (const [room, n] of perRoom) gauge.set({ room }, n);
      dropped.reset();
      dropped.set({}, this.slowDropped);
    });
    this.rooms.on('roomClosed', (name) => this.roomDeleted(name));
    // a room deleted on the node hosting it: that node tells every node, whose clients of the room are closed the same way
    this.cluster.handle('roomDeleted', async (a) => this.roomDeleted(String(a.room)));
    this.cluster.handle('snapshot', async (a) => {
      const room = this.rooms.find(String(a.room));
      if (!room) throw new NotFoundError(`room "${String(a.room)}" does not run on node ${this.cluster.nodeId}`);
      return this.events.snapshot(room);
    });
    this.cluster.handle('mute', async (a) => {
      const room = this.rooms.find(String(a.room));
      if (!room) throw new NotFoundError(`room "${String(a.room)}" does not run on node ${this.cluster.nodeId}`);
      const flag = (v: unknown) => (typeof v === 'boolean' ? v : undefined);
      await room.setMuted(String(a.identity), { audio: flag(a.audio), video: flag(a.video) });
      return null;
    });
    this.heartbeat = setInterval(() => this.beat(), this.config.eventsHeartbeatMs);
    this.heartbeat.unref();
    const resync = nonOverlapping(() => this.resync(), (e) => this.logger.warn(`resync after a reconnect: ${(e as Error).message}`));
    this.subscriber.onResubscribed(() => void resync());
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  /** Pings every socket; one that left MAX_MISSED_PONGS pings unanswered is terminated (its peer is gone: half-open). */
  private beat(): void {
    for (const c of this.clients) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      if (c.missedPongs >= MAX_MISSED_PONGS) {
        this.logger.warn(logLine(`events client ${c.identity ?? '(not authenticated)'} of room ${c.room.slice(0, 64)} missed ${c.missedPongs} heartbeats; terminated`, { room: c.room.slice(0, 64), identity: c.identity }));
        c.ws.terminate();
        continue;
      }
      c.missedPongs++;
      c.ws.ping();
    }
  }

  private roomDeleted(name: string): void {
    for (const c of this.clients) {
      if (c.room !== name) continue;
      if (this.shuttingDown) this.fail(c, CLOSE.restarting, 'shutting_down', 'the server is shutting down; the room is kept: reconnect in a moment');
      else this.fail(c, CLOSE.roomDeleted, 'room_deleted', `room "${name}" was deleted`);
    }
  }

  /** The room as a new client first sees it, from the node its media runs on (or its stored options when it runs nowhere). */
  private async snapshotOf(name: string): Promise<RoomSnapshot | undefined> {
    const where = await this.cluster.whereIs(name);
    if (where?.kind === 'local') return this.events.snapshot(where.room);
    if (where) return this.cluster.call<RoomSnapshot>(where.node, 'snapshot', { room: name });
    const rec = await this.cluster.store.room(name);
    if (!rec) return undefined;
    const o = rec.options;
    return { room: name, layout: o.layout, pinnedIdentity: o.pinnedIdentity ?? null, displayNames: o.displayNames, activeSpeaker: null, participants: [], width: o.width, height: o.height, tiles: [] };
  }

  /** A participant's mute state, on the node whose worker runs the room (it emits trackMuted/trackUnmuted). */
  private async mute(name: string, identity: string, m: { audio?: boolean; video?: boolean }): Promise<void> {
    const where = await this.cluster.whereIs(name);
    if (where?.kind === 'local') return where.room.setMuted(identity, m);
    if (where) return void (await this.cluster.call(where.node, 'mute', { room: name, identity, audio: m.audio, video: m.video }));
    throw new NotFoundError(`"${identity}" publishes no camera or microphone in room "${name}"`);
  }

  /** Connected clients (for tests and metrics). */
  get clientCount(): number {
    return this.clients.size;
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://x');
    let room = '';
    try {
      room = decodeURIComponent(this.pattern.exec(url.pathname)?.[1] ?? '');
    } catch {
      /* malformed escape: no room a token can be for */
    }
    const client: Client = {
      ws,
      room,
      missedPongs: 0,
      live: false,
      pending: [],
      sender: new EventSender(ws, (buffered) => {
        this.slowDropped++;
        this.logger.warn(logLine(`events client ${client.identity ?? '?'} of room ${room} disconnected: too slow (${buffered} bytes unread)`, { room, identity: client.identity }));
      }),
    };
    this.clients.add(client);
    let authTimer: NodeJS.Timeout | undefined;
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.clients.delete(client);
      client.unsubscribe?.();
    });
    ws.on('error', () => undefined);
    ws.on('pong', () => (client.missedPongs = 0));
    // Nothing is said about the room (not even whether it exists) before the token is verified: an unknown room and a
    // bad token get the same answer, and a ping before authentication gets no pong.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const parsed = parseClientFrame(data, isBinary);
      if (!parsed.ok) return this.error(client, parsed.code, parsed.message);
      const frame = parsed.frame;
      if (frame.type === 'ping') {
        if (!client.identity) return this.error(client, 'unauthorized', 'authenticate first: send {"type":"auth","token":"…"}');
        return void client.sender.send(JSON.stringify({ type: 'pong', ...(frame.id !== undefined ? { id: frame.id } : {}) }));
      }
      if (frame.type === 'mute') {
        if (!client.identity) return this.error(client, 'unauthorized', 'authenticate first: send {"type":"auth","token":"…"}');
        if (!client.canPublish) return this.error(client, 'forbidden', 'this token does not publish: nothing to mute');
        return void this.mute(client.room, client.identity, frame).catch((e: Error) => this.error(client, e instanceof DomainError ? e.code : 'internal', e.message));
      }
      if (client.identity) return this.error(client, 'bad_request', 'already authenticated');
      clearTimeout(authTimer);
      void this.authenticate(client, frame.token);
    });
    const token = url.searchParams.get('token');
    if (token) void this.authenticate(client, token);
    else authTimer = setTimeout(() => !client.identity && this.fail(client, CLOSE.unauthorized, 'unauthorized', 'no token: send {"type":"auth","token":"…"} first'), AUTH_TIMEOUT_MS);
  }

  /** Sockets of one identity in one room on this node (authenticated or being admitted). */
  private socketsOf(room: string, identity: string): number {
    let n = 0;
    for (const c of this.clients) if (c.room === room && c.identity === identity) n++;
    return n;
  }

  private async authenticate(client: Client, token: string): Promise<void> {
    let grants: TokenGrants;
    try {
      grants = verifyRoomToken(token, roomTokenKeys(this.config));
    } catch (e) {
      const code = e instanceof DomainError ? e.code : 'unauthorized';
      return this.fail(client, CLOSE.unauthorized, code, (e as Error).message);
    }
    if (grants.room !== client.room) return this.fail(client, CLOSE.forbidden, 'forbidden', `token is for room "${grants.room}", not "${client.room.slice(0, 64)}"`);
    const limit = this.config.maxEventClientsPerIdentity;
    if (this.socketsOf(client.room, grants.identity) >= limit) {
      this.logger.warn(logLine(`events client ${grants.identity} of room ${client.room} refused: ${limit} sockets of that identity already (MAX_EVENT_CLIENTS_PER_IDENTITY)`, { room: client.room, identity: grants.identity }));
      return this.fail(client, CLOSE.tooMany, 'too_many_connections', `"${grants.identity}" has ${limit} events sockets open in this room already (MAX_EVENT_CLIENTS_PER_IDENTITY); close one first`, {
        limit: 'max_event_clients_per_identity',
      });
    }
    client.identity = grants.identity; // takes its slot now, before the await below
    client.canPublish = grants.canPublish;
    // the room may run on any node of the cluster: its record in Redis says whether it exists
    const exists = this.rooms.find(client.room) ? true : await this.cluster.exists(client.room).catch(() => true);
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (!exists) return this.fail(client, CLOSE.notFound, 'not_found', `room "${client.room}" not found`);
    try {
      // counted once authenticated: clients without a token cannot take the room's slots
      this.admission.check({ kind: 'events', room: client.room });
      client.admitted = true;
    } catch (e) {
      if (e instanceof CapacityError) return this.fail(client, CLOSE.tryAgainLater, e.code, e.message, { limit: e.limit, retryAfterSeconds: e.retryAfterSeconds });
      throw e;
    }
    // Subscribe first, then read the room's sequence and snapshot it: events published in between are not lost, and
    // those already in the snapshot are skipped.
    try {
      client.unsubscribe = await this.subscriber.subscribe(client.room, (json) => (client.live ? client.sender.send(json) : client.pending.push(json)));
    } catch (e) {
      this.logger.warn(logLine(`events client ${client.identity} of room ${client.room}: the event bus is unavailable (${(e as Error).message})`, { room: client.room, identity: client.identity }));
      return this.fail(client, 1011, 'unavailable', 'the event bus (Redis) is unavailable; reconnect later');
    }
    if (client.ws.readyState !== client.ws.OPEN) return client.unsubscribe();
    const failure = await this.sendSnapshot(client);
    if (failure) return this.fail(client, failure.close, failure.code, failure.message);
    this.logger.debug(logLine(`events client ${client.identity} of room ${client.room} joined`, { room: client.room, identity: client.identity }));
  }

  /**
   * Sends the client a snapshot of its room at the room's current `seq`, then the events that came in meanwhile and
   * are newer; from then on events go out as they come. Resolves to why it could not (the client is left as it was).
   */
  private async sendSnapshot(client: Client): Promise<{ close: number; code: string; message: string } | undefined> {
    client.live = false;
    const resume = () => {
      for (const json of client.pending.splice(0)) client.sender.send(json);
      client.live = true;
    };
    let seq: number;
    try {
      seq = await this.publisher.currentSeq(client.room);
    } catch (e) {
      resume();
      this.logger.warn(logLine(`events client ${client.identity} of room ${client.room}: the event bus is unavailable (${(e as Error).message})`, { room: client.room, identity: client.identity }));
      return { close: 1011, code: 'unavailable', message: 'the event bus (Redis) is unavailable; reconnect later' };
    }
    let snapshot: RoomSnapshot | undefined;
    try {
      snapshot = await this.snapshotOf(client.room);
    } catch (e) {
      resume();
      this.logger.warn(logLine(`events client ${client.identity} of room ${client.room}: no snapshot (${(e as Error).message})`, { room: client.room, identity: client.identity }));
      return { close: 1011, code: 'unavailable', message: 'the node hosting the room did not answer; reconnect later' };
    }
    if (!snapshot) return { close: CLOSE.notFound, code: 'not_found', message: `room "${client.room}" not found` };
    client.sender.send(JSON.stringify({ type: 'snapshot', seq, timestamp: new Date().toISOString(), ...snapshot }));
    client.pending = client.pending.filter((json) => Number(SEQ_RE.exec(json)?.[1] ?? 0) > seq);
    resume();
    return undefined;
  }

  /**
   * The event subscriber lost Redis and is back: whatever was published meanwhile never reached this node. Every
   * client gets a fresh snapshot (same shape as the first; its `seq` tells where the events go on from).
   */
  private async resync(): Promise<void> {
    const clients = [...this.clients].filter((c) => c.admitted && c.live && c.ws.readyState === c.ws.OPEN);
    if (clients.length) this.logger.warn(`event bus reconnected: sending ${clients.length} events client(s) a new snapshot`);
    for (const c of clients) {
      const failure = await this.sendSnapshot(c);
      if (failure) this.logger.warn(logLine(`events client ${c.identity} of room ${c.room}: no snapshot after the reconnect (${failure.message})`, { room: c.room, identity: c.identity }));
    }
  }

  private error(client: Client, code: string, message: string, extra: Record<string, unknown> = {}): void {
    client.sender.send(JSON.stringify({ type: 'error', code, message, ...extra }));
  }

  private fail(client: Client, closeCode: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.error(client, code, message, extra);
    client.ws.close(closeCode, message.slice(0, 120));
  }
}
