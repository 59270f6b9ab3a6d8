import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { NotFoundError, ROOM_NAME_RE, validateCreateRoom, validateRoomUpdate, validateTokenRequest } from '@app/core';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { AcceptingGuard } from '../lifecycle/accepting.guard';
import { RoomsService } from './rooms.service';
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
    private readonly rooms: RoomsService,
    private readonly tokens: TokenIssuer,
  ) {}

  /** Creates a room on the node with the most capacity left (this one or another; `node` says which). */
  @Post()
  @UseGuards(AcceptingGuard)
  create(@Body() body: unknown) {
    const { name, options } = validateCreateRoom(body);
    return this.rooms.create(name, options);
  }

  @Get()
  async list() {
    return { rooms: await this.rooms.list() };
  }

  @Get(':name')
  get(@Param('name') name: string) {
    return this.rooms.get(roomParam(name));
  }

  /** Layout, pinned identity and name labels of a running room: the composite follows within a frame or two. */
  @Patch(':name')
  update(@Param('name') name: string, @Body() body: unknown) {
    return this.rooms.update(roomParam(name), validateRoomUpdate(body));
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.rooms.remove(roomParam(name));
  }

  @Post(':name/tokens')
  @UseGuards(AcceptingGuard)
  token(@Param('name') rawName: string, @Body() body: unknown) {
    if (!ROOM_NAME_RE.test(rawName)) throw new NotFoundError(`invalid room name "${rawName.slice(0, 64)}"`);
    return this.tokens.issue(rawName, validateTokenRequest(body ?? {}));
  }
}
