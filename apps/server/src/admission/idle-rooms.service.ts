import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { idleCheckIntervalMs, idleRoomsToClose } from '@app/core';
import type { AppConfig } from '@app/config';
import { logLine, RoomManager } from '@app/media';
import { APP_CONFIG } from '../tokens';
import { AdmissionService } from './admission.service';

/**
 * Deletes rooms nobody has been in for ROOM_IDLE_SECONDS (the decision is `idleRoomsToClose` in libs/core). A room is
 * idle when it has no session of any kind — publishers, subscribers, hidden recorder/livestream subscribers, in-process
 * taps (HLS, an embedded recorder) — so a room being recorded or streamed is never idle; nor is one a session is joining.
 */
@Injectable()
export class IdleRoomsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('IdleRooms');
  private idleSince = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly admission: AdmissionService,
  ) {}

  onModuleInit(): void {
    if (this.config.roomIdleMs <= 0) return;
    this.timer = setInterval(() => this.sweep(), idleCheckIntervalMs(this.config.roomIdleMs));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One look at the rooms (the timer calls it; tests may too). */
  sweep(now = Date.now()): void {
    const joining = this.admission.roomsJoining(); // a WHIP/WHEP being answered: its mixer may still be starting
    const occupancy = this.rooms.list().map((r) => ({ name: r.name, idle: r.sessionCount === 0 && !joining.has(r.name) }));
    const decision = idleRoomsToClose(occupancy, this.idleSince, now, this.config.roomIdleMs);
    this.idleSince = decision.idleSince;
    for (const { name, idleMs } of decision.close) {
      if (!this.rooms.find(name)) continue;
      this.logger.log(logLine(`room ${name} deleted: nobody in it for ${Math.round(idleMs / 1000)} s (ROOM_IDLE_SECONDS=${this.config.roomIdleMs / 1000})`, { room: name }));
      this.rooms.delete(name);
    }
  }
}
