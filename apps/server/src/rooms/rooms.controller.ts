import { randomBytes } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import {
  bearerToken,
  ForbiddenError,
  identityForName,
  NotFoundError,
  ROOM_NAME_RE,
  UnauthorizedError,
  validateCreateRoom,
  validateJoinRequest,
  validateRoomUpdate,
  validateTokenRequest,
  verifyRoomTokenClaims,
} from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request } from 'express';
import { AdminAuthGuard, principalOf, RoomAdminAllowed } from '../http/admin-auth.guard';
import { roomTokenKeys } from '../http/room-token-keys';
import { AcceptingGuard } from '../lifecycle/accepting.guard';
import { APP_CONFIG } from '../tokens';
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
  @RoomAdminAllowed()
  get(@Param('name') name: string) {
    return this.rooms.get(roomParam(name));
  }

  /** Layout, pinned identity and name labels of a running room: the composite follows within a frame or two. */
  @Patch(':name')
  @RoomAdminAllowed()
  update(@Param('name') name: string, @Body() body: unknown) {
    return this.rooms.update(roomParam(name), validateRoomUpdate(body));
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.rooms.remove(roomParam(name));
  }

  /**
   * A room token. A room admin (the meeting's host) may issue tokens of its room too — invitations, viewer links —
   * but no room admin token, and none that outlives its own.
   */
  @Post(':name/tokens')
  @RoomAdminAllowed()
  @UseGuards(AcceptingGuard)
  token(@Param('name') rawName: string, @Body() body: unknown, @Req() req: Request) {
    if (!ROOM_NAME_RE.test(rawName)) throw new NotFoundError(`invalid room name "${rawName.slice(0, 64)}"`);
    const request = validateTokenRequest(body ?? {});
    const p = principalOf(req);
    if (p?.kind === 'roomAdmin') {
      if (request.roomAdmin) throw new ForbiddenError('a room admin token cannot issue room admin tokens: ask the app that gave you yours');
      request.ttlSeconds = Math.max(1, Math.min(request.ttlSeconds, p.expiresAt - Math.floor(Date.now() / 1000)));
    }
    return this.tokens.issue(rawName, request);
  }
}

/**
 * `POST /v1/rooms/{name}/join`: an invitation (a token with the `invite` grant, one link for many people) exchanged for
 * a token of one's own: a new identity made from the name given, the grants the invitation hands on, valid as long as
 * the invitation is.
 */
@Controller('v1/rooms/:name/join')
export class JoinController {
  constructor(
    private readonly tokens: TokenIssuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @UseGuards(AcceptingGuard)
  join(@Param('name') name: string, @Body() body: unknown, @Req() req: Request) {
    const q = req.query?.token;
    const token = req.headers.authorization ? bearerToken(req.headers.authorization) : typeof q === 'string' && q ? q : undefined;
    if (!token) throw new UnauthorizedError('missing "Authorization: Bearer <invitation>" header (or ?token=<invitation>)');
    const { grants, expiresAt } = verifyRoomTokenClaims(token, roomTokenKeys(this.config));
    if (grants.room !== name) throw new ForbiddenError(`token is for room "${grants.room}", not "${name.slice(0, 64)}"`);
    if (!grants.invite) throw new ForbiddenError('this token is not an invitation (it has no invite grant)');
    const { displayName } = validateJoinRequest(body);
    return this.tokens.issue(roomParam(name), {
      identity: identityForName(displayName, randomBytes(3).toString('hex')),
      displayName,
      canPublish: grants.invite.canPublish,
      canSubscribe: grants.invite.canSubscribe,
      ttlSeconds: Math.max(1, expiresAt - Math.floor(Date.now() / 1000)),
    });
  }
}
