import type { Queue } from 'bullmq';
import type { MetricFactory } from './metric-factory';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const DURATION_BUCKETS = [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600];

/**
 * BullMQ queue metrics, read from Redis on every scrape (so they count the jobs of every worker process, not just
 * this one): jobs by state (queue depth = waiting + delayed + prioritized), workers connected, jobs finished (BullMQ's
 * own metrics, kept by workers started with `metrics`), and the durations of jobs finished since the last scrape.
 */
export class QueueMetrics {
  private readonly jobs;
  private readonly workers;
  private readonly finished;
  private readonly durations;
  private readonly queues: Queue[] = [];
  /** Per queue: the newest finishedOn already observed, so each job's duration is counted once. */
  private readonly seenUntil = new Map<string, number>();

  constructor(metrics: MetricFactory) {
    this.jobs = metrics.gauge('mcu_queue_jobs', 'jobs in a BullMQ queue by state', ['queue', 'state']);
    this.workers = metrics.gauge('mcu_queue_workers', 'workers connected to a BullMQ queue', ['queue']);
    this.finished = metrics.absoluteCounter('mcu_queue_jobs_finished_total', 'jobs finished, by outcome (webhook queue: deliveries and failures)', ['queue', 'outcome']);
    this.durations = metrics.histogram('mcu_queue_job_duration_seconds', 'from start of processing to finish, per job', ['queue', 'outcome'], DURATION_BUCKETS);
    metrics.onScrape('queues', () => this.collect());
  }

  watch(queue: Queue): void {
    this.queues.push(queue);
    // durations of jobs finished from now on (not those of past runs, again after every restart)
    this.seenUntil.set(queue.name, Date.now());
  }

  private async collect(): Promise<void> {
    this.finished.reset();
    await Promise.all(
      this.queues.map(async (q) => {
        const [counts, workers, completed, failed] = await Promise.all([
          q.getJobCounts(...STATES),
          q.getWorkersCount(),
          q.getMetrics('completed', 0, 0),
          q.getMetrics('failed', 0, 0),
        ]);
        for (const s of STATES) this.jobs.set({ queue: q.name, state: s }, counts[s] ?? 0);
        this.workers.set({ queue: q.name }, workers);
        this.finished.set({ queue: q.name, outcome: 'completed' }, completed.meta.count);
        this.finished.set({ queue: q.name, outcome: 'failed' }, failed.meta.count);
        await this.observeDurations(q);
      }),
    );
  }

  private async observeDurations(q: Queue): Promise<void> {
    const since = this.seenUntil.get(q.name) ?? Date.now();
    let newest = since;
    for (const outcome of ['completed', 'failed'] as const) {
      for (const job of await q.getJobs([outcome], 0, 199)) {
        if (!job?.finishedOn || !job.processedOn || job.finishedOn <= since) continue;
        this.durations.observe({ queue: q.name, outcome }, Math.max(0, job.finishedOn - job.processedOn) / 1000);
        newest = Math.max(newest, job.finishedOn);
      }
    }
    this.seenUntil.set(q.name, newest);
  }
}
