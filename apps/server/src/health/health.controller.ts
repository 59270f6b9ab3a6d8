import { Controller, Get, Inject, Res } from '@nestjs/common';
import { NODE_TTL_MS } from '@app/core';
import type { FfmpegInfo } from '@app/media';
import type { Queue } from 'bullmq';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { AdmissionService } from '../admission/admission.service';
import { ClusterService } from '../cluster/cluster.service';
import { ShutdownService } from '../lifecycle/shutdown.service';
import { RECORDINGS_QUEUE, REDIS } from '../recordings/jobs.providers';
import { FFMPEG_INFO } from '../tokens';

interface Check {
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

/** A check that answers within `ms`, or fails saying so. */
function within(ms: number, check: Promise<Check>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    check.catch((e: Error) => ({ ok: false, error: e.message })),
    new Promise<Check>((r) => (timer = setTimeout(() => r({ ok: false, error: `no answer within ${ms / 1000} s` }), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Liveness and readiness (ffmpeg, Redis, the recording queue; not ready while shutting down), with the node's capacity. */
@Controller()
export class HealthController {
  constructor(
    @Inject(FFMPEG_INFO) private readonly ffmpeg: FfmpegInfo,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(RECORDINGS_QUEUE) private readonly queue: Queue,
    private readonly shutdown: ShutdownService,
    private readonly admission: AdmissionService,
    private readonly cluster: ClusterService,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const [redis, queue] = await Promise.all([
      within(2000, this.redis.ping().then(() => ({ ok: true }))),
      // BullMQ reachable; workers = processes consuming it (0 is allowed: jobs wait until a worker comes)
      within(
        2000,
        Promise.all([this.queue.getWorkersCount(), this.queue.getJobCounts('waiting', 'active', 'delayed')]).then(([workers, counts]) => ({
          ok: true,
          name: this.queue.name,
          workers,
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
        })),
      ),
    ]);
    const checks: Record<string, Check> = {
      ffmpeg: { ok: Boolean(this.ffmpeg.path), path: this.ffmpeg.path, version: this.ffmpeg.version, source: this.ffmpeg.source, ffprobe: this.ffmpeg.ffprobe.path },
      redis,
      queue,
      accepting: this.shutdown.isDraining ? { ok: false, error: 'shutting down' } : { ok: true },
    };
    // this node's record in the cluster registry must be fresh, or other nodes see it as dead and take its rooms
    const node = this.cluster.health();
    checks.node = node.heartbeatAgeMs >= 0 && node.heartbeatAgeMs <= NODE_TTL_MS / 2 ? { ok: true, ...node } : { ok: false, error: `no heartbeat stored for ${node.heartbeatAgeMs < 0 ? 'ever' : `${node.heartbeatAgeMs} ms`}`, ...node };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503);
    // informational, not a check: a full node still serves its rooms (new rooms and sessions get 503 + Retry-After)
    const capacity = this.admission.summary();
    return { status: ok ? 'ready' : this.shutdown.isDraining ? 'shutting_down' : 'not_ready', checks, capacity };
  }
}
