import type { IncomingMessage } from 'node:http';
import { Inject, Logger, type OnModuleInit } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DomainError, ROOM_NAME_RE, verifyRoomToken } from '@app/core';
import type { AppConfig } from '@app/config';
import type { RoomEventPublisher, RoomEventSubscriber } from '@app/jobs';
import { RoomManager } from '@app/media';
import { ROOM_EVENT_PUBLISHER, ROOM_EVENT_SUBSCRIBER } from '../recordings/jobs.providers';
import { MetricsService } from '../metrics/metrics.service';
import { APP_CONFIG } from '../tokens';
import { EventSender, parseClientFrame } from './event-client';
import { pathPattern } from './events-ws.adapter';
import { RoomEventsService } from './room-events.service';

export const EVENTS_PATH = '/v1/rooms/:name/events';
const AUTH_TIMEOUT_MS = 5000;
/** Close codes: 4401 unauthorized, 4403 forbidden, 4404 no such room, 4008 too slow, 4410 room deleted. */
const CLOSE = { unauthorized: 4401, forbidden: 4403, notFound: 4404, roomDeleted: 4410 } as const;
const SEQ_RE = /^\{"seq":(\d+)/;

interface Client {
  ws: WebSocket;
  room: string;
  identity?: string;
  sender: EventSender;
  unsubscribe?: () => void;
}

/**
 * `GET /v1/rooms/{name}/events` upgraded to a WebSocket. Authenticated by a room token (`?token=` or a first frame
 * `{"type":"auth","token"}` within 5 s). On success the client gets `{"type":"snapshot", seq, ...}`, then every event of
 * the room as published on the Redis event bus, in `seq` order. Bad frames get `{"type":"error", code, message}`.
 */
@WebSocketGateway({ path: EVENTS_PATH })
export class EventsGateway implements OnGatewayConnection, OnModuleInit {
  private readonly logger = new Logger('EventsGateway');
  private readonly clients = new Set<Client>();
  private readonly pattern = pathPattern(EVENTS_PATH);
  private slowDropped = 0;

  constructor(
    private readonly rooms: RoomManager,
    private readonly events: RoomEventsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOM_EVENT_PUBLISHER) private readonly publisher: RoomEventPublisher,
    @Inject(ROOM_EVENT_SUBSCRIBER) private readonly subscriber: RoomEventSubscriber,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const gauge = this.metrics.gauge('mcu_events_clients', 'WebSocket clients of the events gateway, by room', ['room']);
    const dropped = this.metrics.absoluteCounter('mcu_events_slow_clients_dropped_total', 'events clients disconnected for not reading');
    this.metrics.onScrape('events', () => {
      gauge.reset();
      const perRoom = new Map<string, number>();
      for (const c of this.clients) if (c.identity) perRoom.set(c.room, (perRoom.get(c.room) ?? 0) + 1);
      for (const [room, n] of perRoom) gauge.set({ room }, n);
      dropped.reset();
      dropped.set({}, this.slowDropped);
    });
    this.rooms.on('roomClosed', (name) => {
      for (const c of this.clients) if (c.room === name) this.fail(c, CLOSE.roomDeleted, 'room_deleted', `room "${name}" was deleted`);
    });
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
      /* malformed escape: not a room */
    }
    const client: Client = {
      ws,
      room,
      sender: new EventSender(ws, (buffered) => {
        this.slowDropped++;
        this.logger.warn(`events client ${client.identity ?? '?'} of room ${room} disconnected: too slow (${buffered} bytes unread)`);
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
    if (!ROOM_NAME_RE.test(room) || !this.rooms.find(room)) return this.fail(client, CLOSE.notFound, 'not_found', `room "${room.slice(0, 64)}" not found`);

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const parsed = parseClientFrame(data, isBinary);
      if (!parsed.ok) return this.error(client, parsed.code, parsed.message);
      const frame = parsed.frame;
      if (frame.type === 'ping') return void client.sender.send(JSON.stringify({ type: 'pong', ...(frame.id !== undefined ? { id: frame.id } : {}) }));
      if (client.identity) return this.error(client, 'bad_request', 'already authenticated');
      clearTimeout(authTimer);
      void this.authenticate(client, frame.token);
    });
    const token = url.searchParams.get('token');
    if (token) void this.authenticate(client, token);
    else authTimer = setTimeout(() => !client.identity && this.fail(client, CLOSE.unauthorized, 'unauthorized', 'no token: send {"type":"auth","token":"…"} first'), AUTH_TIMEOUT_MS);
  }

  private async authenticate(client: Client, token: string): Promise<void> {
    try {
      const grants = verifyRoomToken(token, this.config.apiSecret);
      if (grants.room !== client.room) return this.fail(client, CLOSE.forbidden, 'forbidden', `token is for room "${grants.room}", not "${client.room}"`);
      client.identity = grants.identity;
    } catch (e) {
      const code = e instanceof DomainError ? e.code : 'unauthorized';
      return this.fail(client, CLOSE.unauthorized, code, (e as Error).message);
    }
    // Subscribe first, then read the room's sequence and snapshot it: events published in between are not lost, and
    // those already in the snapshot are skipped.
    const pending: string[] = [];
    let live = false;
    const forward = (json: string) => (live ? client.sender.send(json) : pending.push(json));
    let seq: number;
    try {
      client.unsubscribe = await this.subscriber.subscribe(client.room, forward);
      if (client.ws.readyState !== client.ws.OPEN) return client.unsubscribe();
      seq = await this.publisher.currentSeq(client.room);
    } catch (e) {
      this.logger.warn(`events client ${client.identity} of room ${client.room}: the event bus is unavailable (${(e as Error).message})`);
      return this.fail(client, 1011, 'unavailable', 'the event bus (Redis) is unavailable; reconnect later');
    }
    const room = this.rooms.find(client.room);
    if (!room) return this.fail(client, CLOSE.notFound, 'not_found', `room "${client.room}" not found`);
    client.sender.send(JSON.stringify({ type: 'snapshot', seq, timestamp: new Date().toISOString(), ...this.events.snapshot(room) }));
    for (const json of pending) if (Number(SEQ_RE.exec(json)?.[1] ?? 0) > seq) client.sender.send(json);
    live = true;
    this.logger.debug(`events client ${client.identity} of room ${client.room} joined at seq ${seq}`);
  }

  private error(client: Client, code: string, message: string): void {
    client.sender.send(JSON.stringify({ type: 'error', code, message }));
  }

  private fail(client: Client, closeCode: number, code: string, message: string): void {
    this.error(client, code, message);
    client.ws.close(closeCode, message.slice(0, 120));
  }
}
