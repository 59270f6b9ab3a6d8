import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { AppConfig } from '@app/config';
import { QUEUE_WEBHOOKS, RecordingStore, type RecordingStatus } from '@app/jobs';
import { RoomManager } from '@app/media';
import { QueueCatalog } from '../admin/queue-catalog.service';
import { LIVESTREAMS_QUEUE, RECORDINGS_QUEUE, REDIS_INFO, type RedisInfo } from '../recordings/jobs.providers';
import { APP_CONFIG } from '../tokens';
import { registerMediaMetrics } from './media-metrics';
import { MetricsService } from './metrics.service';

const LIVE_STATUSES: RecordingStatus[] = ['queued', 'starting', 'active', 'stopping'];

/** Plugs this app's collectors into the MetricsService (media, recordings) and its queues into the QueueCatalog. */
@Injectable()
export class MetricsWiring implements OnModuleInit, OnApplicationShutdown {
  private webhooks?: Queue;

  constructor(
    private readonly metrics: MetricsService,
    private readonly queues: QueueCatalog,
    private readonly rooms: RoomManager,
    private readonly store: RecordingStore,
    @Inject(RECORDINGS_QUEUE) private readonly recordingsQueue: Queue,
    @Inject(LIVESTREAMS_QUEUE) private readonly livestreamsQueue: Queue,
    @Inject(REDIS_INFO) private readonly redisInfo: RedisInfo,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    registerMediaMetrics(this.metrics, this.rooms);
    const recordings = this.metrics.gauge('mcu_recordings', 'recordings not yet finished, by status', ['status']);
    this.metrics.onScrape('recordings', async () => {
      const counts = Object.fromEntries(LIVE_STATUSES.map((s) => [s, 0]));
      for (const r of await this.store.unfinished()) counts[r.status] = (counts[r.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) recordings.set({ status }, n);
    });
    this.queues.register(this.recordingsQueue);
    this.queues.register(this.livestreamsQueue);
    if (this.config.webhookUrl) {
      this.webhooks = new Queue(QUEUE_WEBHOOKS, { connection: this.redisInfo.connections.create() });
      this.queues.register(this.webhooks);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.webhooks?.close().catch(() => undefined);
  }
}

export const metricsProviders = [MetricsService, QueueCatalog, MetricsWiring];
