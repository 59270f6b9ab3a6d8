import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { NotFoundError, ROOM_NAME_RE, validateCreateRoom, validateRoomUpdate, validateTokenRequest } from '@app/core';
import { RoomManager } from '@app/media';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { AcceptingGuard } from '../lifecycle/accepting.guard';
import { roomView } from './room-view';
import { TokenIssuer } from './token-issuer.service';

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
    private readonly tokens: TokenIssuer,
  ) {}

  @Post()
  @UseGuards(AcceptingGuard)
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

  /** Layout, pinned identity and name labels of a running room: the composite follows within a frame or two. */
  @Patch(':name')
  update(@Param('name') name: string, @Body() body: unknown) {
    const room = this.rooms.get(roomParam(name));
    room.update(validateRoomUpdate(body));
    return roomView(room, true);
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@Param('name') name: string): void {
    this.rooms.delete(roomParam(name));
  }

  @Post(':name/tokens')
  @UseGuards(AcceptingGuard)
  token(@Param('name') rawName: string, @Body() body: unknown) {
    if (!ROOM_NAME_RE.test(rawName)) throw new NotFoundError(`invalid room name "${rawName.slice(0, 64)}"`);
    return this.tokens.issue(rawName, validateTokenRequest(body ?? {}));
  }
}
