import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ForbiddenError, parseBasicAuth, safeEqual, UnauthorizedError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../tokens';
import { isCrossOrigin } from './cross-origin';

export const ADMIN_REQUIRED = 'admin credentials required: Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)';

/** Admin routes: `Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)`. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    // A page of another origin gets no Basic prompt (it could phish the admin credentials or make the browser cache
    // them) and, even with credentials the browser sent by itself, no admin action (cross-site request forgery).
    const crossOrigin = isCrossOrigin(req.headers);
    if (isAdmin(req, this.config)) {
      if (crossOrigin) throw new ForbiddenError('admin routes are not available to pages of another origin');
      return true;
    }
    if (!crossOrigin) ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Basic realm="mcu"');
    throw new UnauthorizedError(ADMIN_REQUIRED);
  }
}

export function isAdmin(req: Request, config: AppConfig): boolean {
  const creds = parseBasicAuth(req.headers.authorization);
  if (!creds) return false;
  // both compared every time: whether the key alone was right is not told by the time taken
  const keyOk = safeEqual(creds.key, config.apiKey);
  const secretOk = safeEqual(creds.secret, config.apiSecret);
  return keyOk && secretOk;
}
