import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FfmpegInfo } from '@app/media';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { REDIS } from '../recordings/jobs.providers';
import { FFMPEG_INFO } from '../tokens';

/** Liveness and readiness. Readiness grows checks as the server uses more (Redis with the recording queue). */
@Controller()
export class HealthController {
  constructor(
    @Inject(FFMPEG_INFO) private readonly ffmpeg: FfmpegInfo,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const redis = await Promise.race([
      this.redis.ping().then(
        () => ({ ok: true }),
        (e: Error) => ({ ok: false, error: e.message }),
      ),
      new Promise<{ ok: boolean; error: string }>((r) => setTimeout(() => r({ ok: false, error: 'no answer within 2 s' }), 2000)),
    ]);
    const checks = { ffmpeg: { ok: Boolean(this.ffmpeg.path), path: this.ffmpeg.path, version: this.ffmpeg.version, source: this.ffmpeg.source }, redis };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready', checks };
  }
}
