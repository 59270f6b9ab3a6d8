import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AbsoluteCounter, type MetricFactory, type ScrapeCollector } from './metric-factory';
import { QueueMetrics } from './queue-metrics';

/**
 * The Prometheus registry of this app (its own, not prom-client's global one: tests run several apps in one process).
 * Other services plug in with `onScrape` (collect-on-scrape from counters they already keep) rather than instrumenting
 * hot paths; `absoluteCounter` turns such a running total into a Prometheus counter.
 */
@Injectable()
export class MetricsService implements MetricFactory {
  readonly registry = new Registry();
  private readonly collectors: Array<{ name: string; fn: ScrapeCollector }> = [];
  private readonly logger = new Logger('Metrics');

  constructor() {
    // process CPU, memory, event loop lag, GC, handles: process_* and nodejs_*
    collectDefaultMetrics({ register: this.registry });
  }

  private queueMetrics?: QueueMetrics;

  /** One line per BullMQ queue: its depth, workers, finished jobs and job durations appear in /metrics. */
  watchQueue(queue: Queue): void {
    (this.queueMetrics ??= new QueueMetrics(this)).watch(queue);
  }

  onScrape(name: string, fn: ScrapeCollector): void {
    this.collectors.push({ name, fn });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** A counter whose value is set from a running total on each scrape (`set(labels, total)`); reset first each time. */
  absoluteCounter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): AbsoluteCounter<L> {
    return new AbsoluteCounter(new Counter({ name, help, labelNames, registers: [this.registry] }));
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  private rendering?: Promise<string>;

  /**
   * Collects and renders; a scrape that arrives while another is being collected shares its result, since collectors
   * reset and refill counters (two at once would add their totals twice).
   */
  render(): Promise<string> {
    this.rendering ??= this.collectAndRender().finally(() => (this.rendering = undefined));
    return this.rendering;
  }

  private async collectAndRender(): Promise<string> {
    const results = await Promise.allSettled(this.collectors.map(async (c) => c.fn()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.logger.warn(`metrics collector ${this.collectors[i].name} failed: ${(r.reason as Error)?.message ?? String(r.reason)}`);
    });
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
