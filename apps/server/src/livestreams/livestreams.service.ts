import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AppConfig } from '@app/config';
import { NotFoundError, ValidationError, nonOverlapping } from '@app/core';
import { isLivestreamFinal, type Livestream, LIVESTREAM_STATUSES, LivestreamStore, type LivestreamStatus, maskUrl, validateLivestreamRequest } from '@app/jobs';
import { logLine, RoomManager } from '@app/media';
import { ClusterService } from '../cluster/cluster.service';
import { LIVESTREAMS_QUEUE } from '../recordings/jobs.providers';
import { APP_CONFIG } from '../tokens';

const SILENT_WORKER_MS = 30_000;
const SILENT_WORKER_ERROR = 'its worker stopped responding; waiting for a worker to resume it';

/**
 * Livestreams: each one is a BullMQ job (a worker taps the mix and pushes it with its own ffmpeg, so adding or removing
 * one never touches the others); metadata, including the unmasked URL the worker needs, lives in Redis. Logs only ever
 * show the masked URL. A deleted room stops its livestreams.
 */
@Injectable()
export class LivestreamsService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Livestreams');
  /** Rooms close when the server shuts down: that is not a reason to end livestreams, which resume after the restart. */
  private shuttingDown = false;
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: LivestreamStore,
    private readonly rooms: RoomManager,
    private readonly cluster: ClusterService,
    @Inject(LIVESTREAMS_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.rooms.on('roomClosed', (name) => {
      if (!this.shuttingDown) void this.stopAllOf(name, 'the room was deleted').catch((e: Error) => this.logger.warn(e.message));
    });
    // one sweep at a time: while Redis is stopped a sweep hangs, and the ticks of the outage must not all run afterwards
    const sweep = nonOverlapping(() => this.sweep(), (e) => this.logger.warn(`sweep: ${(e as Error).message}`));
    this.sweepTimer = setInterval(() => void sweep(), 5000);
  }

  /**
   * A livestream whose worker went silent (and no other worker took its job over yet) is not shown as `active`: it
   * becomes `reconnecting` with the reason, and a worker that picks the stalled job up resumes it.
   */
  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const ls of await this.store.unfinished()) {
      if (!['connecting', 'active', 'reconnecting'].includes(ls.status) || now - (ls.heartbeatAt ?? now) < SILENT_WORKER_MS) continue;
      if (ls.lastError === SILENT_WORKER_ERROR) continue;
      this.logger.warn(logLine(`livestream ${ls.id} of room ${ls.room}: its worker went silent; waiting for a worker to resume it`, { livestream: ls.id, room: ls.room }));
      await this.store.update(ls.id, { status: 'reconnecting', lastError: SILENT_WORKER_ERROR }, { allowNoop: true });
    }
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.queue.close().catch(() => undefined);
  }

  async create(roomName: string, body: unknown): Promise<Livestream> {
    const { url } = validateLivestreamRequest(body, { allowPrivateHosts: this.config.rtmpAllowPrivate });
    // the room may run on any node (or none yet): it must exist in the cluster
    const options = await this.cluster.roomOptions(roomName);
    if (!options) throw new NotFoundError(`room "${roomName}" not found`);
    const ls = await this.store.create({ room: roomName, url });
    // the room's codec is fixed when it is created: the job knows now whether its video is copied or transcoded
    await this.queue.add('livestream', { livestreamId: ls.id, videoCodec: options.videoCodec }, { jobId: ls.id, removeOnComplete: 1000, removeOnFail: 5000 });
    this.logger.log(logLine(`livestream ${ls.id} of room ${roomName} to ${maskUrl(url)} queued`, { livestream: ls.id, room: roomName }));
    return ls;
  }

  get(id: string): Promise<Livestream> {
    return this.store.get(id);
  }

  async list(q: { room?: string; status?: string; limit?: string }): Promise<Livestream[]> {
    if (q.status !== undefined && !LIVESTREAM_STATUSES.includes(q.status as LivestreamStatus)) throw new ValidationError(`status must be one of: ${LIVESTREAM_STATUSES.join(', ')}`);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ValidationError('limit must be an integer from 1 to 500');
    return this.store.list({ room: q.room, status: q.status as LivestreamStatus | undefined, limit });
  }

  /** Stops it (idempotent) and waits up to `waitMs` for its worker to confirm; returns the record as it then is. */
  async stop(id: string, reason = 'stopped through the API', waitMs = 8000): Promise<Livestream> {
    let ls = await this.store.get(id);
    if (isLivestreamFinal(ls.status)) return ls;
    if (ls.status === 'queued') {
      const job = await this.queue.getJob(id);
      const removed = await job?.remove().then(
        () => true,
        () => false,
      );
      if (removed || !job) {
        this.logger.log(`livestream ${id} stopped before it started`);
        return this.store.update(id, { stopRequested: reason, status: 'stopped', endedAt: new Date().toISOString() }, { allowNoop: true });
      }
    }
    ls = await this.store.update(id, { stopRequested: ls.stopRequested ?? reason });
    this.logger.log(logLine(`livestream ${id} of room ${ls.room}: stop requested (${reason})`, { livestream: id, room: ls.room }));
    const deadline = Date.now() + waitMs;
    while (!isLivestreamFinal(ls.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ls = await this.store.get(id);
    }
    return ls;
  }

  private async stopAllOf(room: string, reason: string): Promise<void> {
    for (const ls of await this.store.unfinished()) if (ls.room === room && !ls.stopRequested) await this.stop(ls.id, reason, 0);
  }
}
