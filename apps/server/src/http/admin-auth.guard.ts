import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, UnauthorizedError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../tokens';
import { isCrossOrigin } from './cross-origin';
import { ADMIN_REQUIRED, isAdminAuth, type Principal, principalFor } from './principal';
import { roomTokenKeys } from './room-token-keys';

export { ADMIN_REQUIRED };

const ROOM_ADMIN_ALLOWED = 'mcu:roomAdminAllowed';
/** On an admin route: a room token with the `roomAdmin` grant may call it too, for its own room (see principal.ts). */
export const RoomAdminAllowed = () => SetMetadata(ROOM_ADMIN_ALLOWED, true);

type AuthedRequest = Request & { principal?: Principal };

/** Who called (set by AdminAuthGuard): admin, or the room admin of one room. */
export const principalOf = (req: Request): Principal | undefined => (req as AuthedRequest).principal;

/**
 * Admin routes: `Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)`; routes marked `@RoomAdminAllowed()` also
 * take a room admin token (Bearer, or `?token=` on GET) of the room they name.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const allowRoomAdmin = this.reflector.getAllAndOverride<boolean>(ROOM_ADMIN_ALLOWED, [ctx.getHandler(), ctx.getClass()]) === true;
    const q = req.query?.token;
    const name = req.params?.name;
    // A page of another origin gets no Basic prompt (it could phish the admin credentials or make the browser cache
    // them) and, even with credentials the browser sent by itself, no admin action (cross-site request forgery). A room
    // admin token is never sent by a browser on its own, so it is not refused for that.
    const crossOrigin = isCrossOrigin(req.headers);
    try {
      req.principal = principalFor(
        { authorization: req.headers.authorization, queryToken: typeof q === 'string' && q ? q : undefined, method: req.method, ...(typeof name === 'string' ? { room: name } : {}) },
        this.config,
        roomTokenKeys(this.config),
        allowRoomAdmin,
      );
    } catch (e) {
      if (e instanceof UnauthorizedError && !crossOrigin) ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Basic realm="mcu"');
      throw e;
    }
    if (crossOrigin && req.principal.kind === 'admin') throw new ForbiddenError('admin routes are not available to pages of another origin');
    return true;
  }
}

export function isAdmin(req: Request, config: AppConfig): boolean {
  return isAdminAuth(req.headers.authorization, config);
}
