import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FfmpegInfo } from '@app/media';
import type { Response } from 'express';
import { FFMPEG_INFO } from '../tokens';

/** Liveness and readiness. Readiness grows checks as the server uses more (Redis with the recording queue). */
@Controller()
export class HealthController {
  constructor(@Inject(FFMPEG_INFO) private readonly ffmpeg: FfmpegInfo) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  readyz(@Res({ passthrough: true }) res: Response) {
    const checks = { ffmpeg: { ok: Boolean(this.ffmpeg.path), path: this.ffmpeg.path, version: this.ffmpeg.version, source: this.ffmpeg.source } };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready', checks };
  }
}
