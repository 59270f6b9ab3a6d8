import { performance } from 'node:perf_hooks';

/**
 * A drift-free periodic clock: tick n runs at start + n·period. If the event loop stalls it catches up by running the
 * missed ticks back to back (so media timestamps stay tied to wall-clock time), unless it fell more than `maxCatchUp`
 * ticks behind, in which case it skips ahead and counts the skipped ticks.
 */
export class Ticker {
  private timer?: NodeJS.Timeout;
  private start = 0;
  private n = 0;
  skipped = 0;

  constructor(
    private readonly periodMs: number,
    private readonly onTick: (n: number) => void,
    private readonly maxCatchUp = 5,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  begin(): void {
    if (this.timer) return;
    this.start = performance.now();
    this.n = 0;
    this.schedule();
  }

  private schedule(): void {
    const due = this.start + this.n * this.periodMs;
    this.timer = setTimeout(() => this.run(), Math.max(0, due - performance.now()));
  }

  private run(): void {
    const now = performance.now();
    let behind = Math.floor((now - this.start) / this.periodMs) - this.n + 1;
    if (behind > this.maxCatchUp) {
      this.skipped += behind - 1;
      this.n += behind - 1;
      behind = 1;
    }
    for (let i = 0; i < behind && this.timer; i++) this.onTick(this.n++);
    if (this.timer) this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
