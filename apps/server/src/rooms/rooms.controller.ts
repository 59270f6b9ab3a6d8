import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  DEFAULT_ROOM_OPTIONS,
  NotFoundError,
  ROOM_NAME_RE,
  signRoomToken,
  validateCreateRoom,
  validateTokenRequest,
} from '@app/core';
import type { AppConfig } from '@app/config';
import { RoomManager } from '@app/media';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { APP_CONFIG } from '../tokens';
import { roomView } from './room-view';

/** A room name from a path: anything that is not a valid name cannot exist, so it is a 404 (never a path to follow). */
export function roomParam(name: string): string {
  if (!ROOM_NAME_RE.test(name)) throw new NotFoundError(`room "${name.slice(0, 64)}" not found`);
  return name;
}

@Controller('v1/rooms')
@UseGuards(AdminAuthGuard)
export class RoomsController {
  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  create(@Body() body: unknown) {
    const { name, options } = validateCreateRoom(body);
    return roomView(this.rooms.create(name, options), true);
  }

  @Get()
  list() {
    return { rooms: this.rooms.list().map((r) => roomView(r)) };
  }

  @Get(':name')
  get(@Param('name') name: string) {
    return roomView(this.rooms.get(roomParam(name)), true);
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@Param('name') name: string): void {
    this.rooms.delete(roomParam(name));
  }

  @Post(':name/tokens')
  token(@Param('name') rawName: string, @Body() body: unknown) {
    if (!ROOM_NAME_RE.test(rawName)) throw new NotFoundError(`invalid room name "${rawName.slice(0, 64)}"`);
    const req = validateTokenRequest(body ?? {});
    const room = this.rooms.getOrCreate(rawName, DEFAULT_ROOM_OPTIONS);
    const { token, claims } = signRoomToken(
      { room: room.name, identity: req.identity, displayName: req.displayName, canPublish: req.canPublish, canSubscribe: req.canSubscribe },
      this.config.apiSecret,
      { ttlSeconds: req.ttlSeconds, issuer: this.config.apiKey },
    );
    return {
      token,
      room: room.name,
      identity: req.identity,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      grants: claims.grants,
      iceServers: this.config.iceServers,
    };
  }
}
