/**
 * What a metrics source needs from the registry: the factories of its metrics and the scrape hook. Its own file so
 * sources (queue-metrics.ts, …) depend on this contract rather than on MetricsService, which creates some of them
 * (that import went both ways).
 */
import type { Counter, Gauge, Histogram } from 'prom-client';

/** Runs on every scrape, before the registry is rendered: reads the current state and sets gauges/counters from it. */
export type ScrapeCollector = () => void | Promise<void>;

export interface MetricFactory {
  onScrape(name: string, fn: ScrapeCollector): void;
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  absoluteCounter<L extends string>(name: string, help: string, labelNames?: readonly L[]): AbsoluteCounter<L>;
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L>;
}

/** A Prometheus counter fed with totals kept elsewhere (rooms that close drop out, which Prometheus treats as a reset). */
export class AbsoluteCounter<L extends string> {
  constructor(private readonly counter: Counter<L>) {}

  reset(): void {
    this.counter.reset();
  }

  set(labels: Partial<Record<L, string | number>>, total: number): void {
    this.counter.inc(labels, Math.max(0, total));
  }
}
