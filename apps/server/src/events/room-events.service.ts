import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { logLine, type RoomHandle as Room, RoomManager } from '@app/media';
import type { RoomEventPublisher } from '@app/jobs';
import { ROOM_EVENT_PUBLISHER } from '../recordings/jobs.providers';

/** A room as a newly connected events client first sees it. */
export interface RoomSnapshot {
  room: string;
  layout: string;
  pinnedIdentity: string | null;
  displayNames: boolean;
  activeSpeaker: string | null;
  participants: Array<{
    identity: string;
    displayName?: string;
    publishing: boolean;
    screenSharing: boolean;
    subscribing: boolean;
    audioMuted: boolean;
    videoMuted: boolean;
    /** The rendition it receives (null: video paused) and its downlink estimate, while it subscribes. */
    subscriber?: { rendition: string | null; estimateKbps?: number };
  }>;
  /** The mix's canvas: `tiles` are rectangles in its pixels. */
  width: number;
  height: number;
  tiles: unknown[];
}

/** Publishes every room's events (participants, tracks, active speaker, layout) to the event bus. */
@Injectable()
export class RoomEventsService implements OnModuleInit {
  private readonly logger = new Logger('Events');

  constructor(
    private readonly rooms: RoomManager,
    @Inject(ROOM_EVENT_PUBLISHER) private readonly publisher: RoomEventPublisher,
  ) {}

  onModuleInit(): void {
    for (const room of this.rooms.list()) this.attach(room);
    this.rooms.on('roomCreated', (room) => this.attach(room));
  }

  private attach(room: Room): void {
    room.on('event', (e) => {
      this.logger.debug(logLine(`[room ${room.name}] event ${e.type}`, { room: room.name }));
      void this.publisher.publish(room.name, e);
    });
  }

  snapshot(room: Room): RoomSnapshot {
    const o = room.options;
    return {
      room: room.name,
      layout: o.layout,
      pinnedIdentity: o.pinnedIdentity ?? null,
      displayNames: o.displayNames,
      activeSpeaker: room.activeSpeaker ?? null,
      participants: room.participants().map((p) => ({
        identity: p.identity,
        ...(p.displayName ? { displayName: p.displayName } : {}),
        publishing: Boolean(p.publisher),
        screenSharing: Boolean(p.screen),
        subscribing: Boolean(p.subscriber),
        audioMuted: p.publisher?.audioMuted ?? false,
        videoMuted: p.publisher?.videoMuted ?? false,
        ...(p.subscriber ? { subscriber: { rendition: p.subscriber.rendition, ...(p.subscriber.estimateKbps !== undefined ? { estimateKbps: p.subscriber.estimateKbps } : {}) } } : {}),
      })),
      width: o.width,
      height: o.height,
      tiles: room.mixerState().tiles.map(({ id: _id, ...t }) => t),
    };
  }
}
