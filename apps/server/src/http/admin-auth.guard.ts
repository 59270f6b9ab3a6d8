import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { parseBasicAuth, safeEqual, UnauthorizedError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../tokens';

export const ADMIN_REQUIRED = 'admin credentials required: Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)';

/** Admin routes: `Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)`. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (isAdmin(req, this.config)) return true;
    ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Basic realm="mcu"');
    throw new UnauthorizedError(ADMIN_REQUIRED);
  }
}

export function isAdmin(req: Request, config: AppConfig): boolean {
  const creds = parseBasicAuth(req.headers.authorization);
  return Boolean(creds && safeEqual(creds.key, config.apiKey) && safeEqual(creds.secret, config.apiSecret));
}
