import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { RecordingStore, type RecordingStatus } from '@app/jobs';
import { RoomManager } from '@app/media';
import { QueueCatalog } from '../admin/queue-catalog.service';
import { AdmissionService } from '../admission/admission.service';
import { LIVESTREAMS_QUEUE, RECORDINGS_QUEUE, WEBHOOKS_QUEUE } from '../recordings/jobs.providers';
import { registerCapacityMetrics } from './capacity-metrics';
import { registerMediaMetrics } from './media-metrics';
import { MetricsService } from './metrics.service';

const LIVE_STATUSES: RecordingStatus[] = ['queued', 'starting', 'active', 'stopping', 'finishing'];

/** Plugs this app's collectors into the MetricsService (media, capacity, recordings) and its queues into the QueueCatalog. */
@Injectable()
export class MetricsWiring implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queues: QueueCatalog,
    private readonly rooms: RoomManager,
    private readonly store: RecordingStore,
    private readonly admission: AdmissionService,
    @Inject(RECORDINGS_QUEUE) private readonly recordingsQueue: Queue,
    @Inject(LIVESTREAMS_QUEUE) private readonly livestreamsQueue: Queue,
    @Inject(WEBHOOKS_QUEUE) private readonly webhooks: Queue | null,
  ) {}

  onModuleInit(): void {
    registerMediaMetrics(this.metrics, this.rooms);
    registerCapacityMetrics(this.metrics, this.admission);
    const recordings = this.metrics.gauge('mcu_recordings', 'recordings not yet finished, by status', ['status']);
    this.metrics.onScrape('recordings', async () => {
      const counts = Object.fromEntries(LIVE_STATUSES.map((s) => [s, 0]));
      for (const r of await this.store.unfinished()) counts[r.status] = (counts[r.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) recordings.set({ status }, n);
    });
    this.queues.register(this.recordingsQueue);
    this.queues.register(this.livestreamsQueue);
    if (this.webhooks) this.queues.register(this.webhooks);
  }
}

export const metricsProviders = [MetricsService, QueueCatalog, MetricsWiring];
