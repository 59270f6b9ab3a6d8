import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ShuttingDownError } from '@app/core';
import type { AppConfig } from '@app/config';
import { isFinal, RecordingStore } from '@app/jobs';
import { RoomManager } from '@app/media';
import { APP_CONFIG } from '../tokens';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The share of SHUTDOWN_TIMEOUT_SECONDS given to recordings to finish; the rest is for workers, rooms and Redis. */
export const RECORDINGS_SHARE = 0.6;

/**
 * Graceful shutdown (SIGTERM, or app.close()). Nest runs this before any onApplicationShutdown hook and before the HTTP
 * server closes, so: stop accepting joins (WHIP, WHEP, tokens, new recordings answer 503 `shutting_down`; /readyz 503
 * so a load balancer moves traffic away), ask every recording of this node's rooms to stop and wait for them to
 * finish their files (bounded). Then the usual hooks run: the queue workers drain (JobsLifecycle), rooms close.
 * main.ts puts a hard bound on the whole sequence.
 */
@Injectable()
export class ShutdownService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private draining = false;

  constructor(
    private readonly rooms: RoomManager,
    private readonly store: RecordingStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** Throws 503 `shutting_down` once the shutdown began. */
  assertAccepting(): void {
    if (this.draining) throw new ShuttingDownError();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    const started = Date.now();
    this.logger.log(`${signal ?? 'close'}: draining — no new joins; finishing the recordings of ${this.rooms.list().length} room(s)`);
    const deadline = started + this.config.shutdownTimeoutMs * RECORDINGS_SHARE;
    let mine: string[] = [];
    const finish = async () => {
      const unfinished = (await this.store.unfinished()).filter((r) => this.rooms.find(r.room));
      mine = unfinished.map((r) => r.id);
      for (const r of unfinished) {
        if (r.status === 'queued') {
          await this.store.update(r.id, { stopRequested: 'the server shut down', status: 'failed', error: 'the server shut down before it started: nothing was recorded', endedAt: new Date().toISOString() }, { allowNoop: true });
        } else if (!r.stopRequested) {
          await this.store.update(r.id, { stopRequested: 'the server is shutting down' });
        }
      }
      while (mine.length && Date.now() < deadline) {
        const left = [];
        for (const id of mine) {
          const r = await this.store.find(id);
          if (r && !isFinal(r.status)) left.push(id);
        }
        mine = left;
        if (mine.length) await sleep(200);
      }
    };
    // bounded even when Redis is gone (its commands would wait for a reconnect forever)
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finish().catch((e: Error) => this.logger.warn(`could not finish recordings cleanly: ${e.message}`)),
      new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()) + 500))),
    ]).finally(() => clearTimeout(timer));
    if (mine.length) this.logger.warn(`recordings still finishing after ${Date.now() - started} ms: ${mine.join(', ')} (their files stay playable)`);
    else this.logger.log(`recordings finished in ${Date.now() - started} ms; draining workers and closing rooms`);
  }
}
