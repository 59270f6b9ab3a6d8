import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { safeEqual, UnauthorizedError } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { isAdmin } from '../http/admin-auth.guard';
import { APP_CONFIG } from '../tokens';
import { MetricsService } from './metrics.service';

/** Admin Basic auth, or `Authorization: Bearer <METRICS_TOKEN>` for a Prometheus scraper that should not hold admin rights. */
export function canReadMetrics(req: Request, config: AppConfig): boolean {
  if (isAdmin(req, config)) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return Boolean(m && config.metricsToken && safeEqual(m[1], config.metricsToken));
}

/** Prometheus text exposition of rooms, media, recordings, queues and the process. */
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('metrics')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!canReadMetrics(req, this.config)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="mcu", Bearer');
      throw new UnauthorizedError('metrics need admin credentials (Basic) or "Authorization: Bearer <METRICS_TOKEN>"');
    }
    const body = await this.metrics.render();
    res.setHeader('Content-Type', this.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(body);
  }
}
