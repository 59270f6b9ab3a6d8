import { Injectable } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { MetricsService } from '../metrics/metrics.service';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * The BullMQ queues this server knows. `register(queue)` is the one line a feature adds for its queue: it appears
 * in /metrics (depth, workers, finished jobs, durations) and in Bull Board at /admin/queues.
 */
@Injectable()
export class QueueCatalog {
  readonly board = new ExpressAdapter();
  private readonly api;

  constructor(private readonly metrics: MetricsService) {
    this.board.setBasePath(QUEUE_BOARD_PATH);
    this.api = createBullBoard({ queues: [], serverAdapter: this.board, options: { uiConfig: { boardTitle: 'werift-mcu queues' } } });
  }

  register(queue: Queue): void {
    this.metrics.watchQueue(queue);
    this.api.addQueue(new BullMQAdapter(queue));
  }
}
