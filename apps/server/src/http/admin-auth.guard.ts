import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnauthorizedError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../tokens';
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
    try {
      req.principal = principalFor(
        { authorization: req.headers.authorization, queryToken: typeof q === 'string' && q ? q : undefined, method: req.method, ...(typeof name === 'string' ? { room: name } : {}) },
        this.config,
        roomTokenKeys(this.config),
        allowRoomAdmin,
      );
      return true;
    } catch (e) {
      if (e instanceof UnauthorizedError) ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Basic realm="mcu"');
      throw e;
    }
  }
}

export function isAdmin(req: Request, config: AppConfig): boolean {
  return isAdminAuth(req.headers.authorization, config);
}
