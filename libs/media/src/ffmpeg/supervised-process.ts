import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { FfmpegJob } from '../output/ffmpeg-job';
import type { ChildLike } from './spawner';

export { launchChild, launchChildrenWith, observeChildren, trackChild, useSpawner } from './launch';

/**
 * A long-lived child process that is restarted with exponential backoff when it exits unexpectedly.
 * Logs the exit code and the tail of stderr; SIGKILLs on close. Every child is tracked so nothing outlives the server.
 */
export interface SupervisedProcessOptions {
  name: string;
  command: string;
  /** Called before every (re)start: arguments may change between restarts (ports, sizes). */
  args: () => string[];
  logger?: { log(m: string): void; warn(m: string): void; debug?(m: string): void };
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run that lasted this long resets the backoff. */
  healthyAfterMs?: number;
  /** A fourth pipe (fd 3) into the child, e.g. a second ffmpeg input. */
  fd3?: boolean;
}

export interface SupervisedProcessEvents {
  spawn: [child: ChildLike & { stdin: Writable; stdout: Readable }, fd3: Writable | undefined];
  exit: [info: { code: number | null; signal: string | null; stderrTail: string; willRestart: boolean }];
}

/**
 * Spawns are paced: `spawn()` forks and waits for the child's exec, which blocks this thread's event loop for
 * ~5–30 ms (more under load, and more the bigger the process). A layout change restarts every decoder of a room at
 * once; back to back, those spawns froze the room's clock for hundreds of ms. One spawn per SPAWN_GAP_MS lets the
 * mixer's ticks run in between. The first spawn after a quiet spell runs at once.
 */
const SPAWN_GAP_MS = 100;
const spawnQueue: Array<() => void> = [];
let lastSpawnAt = -Infinity;
let spawnTimer: NodeJS.Timeout | undefined;
function pacedSpawn(fn: () => void): void {
  if (!spawnQueue.length && performance.now() - lastSpawnAt >= SPAWN_GAP_MS) {
    lastSpawnAt = performance.now();
    fn();
    return;
  }
  spawnQueue.push(fn);
  if (!spawnTimer) drainLater();
}
function drainLater(): void {
  spawnTimer = setTimeout(() => {
    spawnTimer = undefined;
    const next = spawnQueue.shift();
    lastSpawnAt = performance.now();
    next?.();
    if (spawnQueue.length) drainLater();
  }, Math.max(0, SPAWN_GAP_MS - (performance.now() - lastSpawnAt)));
}

export class SupervisedProcess extends EventEmitter<SupervisedProcessEvents> {
  private job?: FfmpegJob;
  private closed = false;
  private backoffMs: number;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  /** A spawn is queued (see pacedSpawn). */
  private spawnPending = false;
  restarts = 0;

  constructor(private readonly opts: SupervisedProcessOptions) {
    super();
    this.backoffMs = opts.minBackoffMs ?? 250;
  }

  /** A child is up and its pipes are usable. */
  get running(): boolean {
    return this.job?.running ?? false;
  }

  get stdin(): Writable | undefined {
    return this.job?.stdin;
  }

  get pid(): number | undefined {
    return this.job?.pid;
  }

  /** Starts the child (at once, or after the spawns queued before it). */
  start(): void {
    // a job that is alive is running or still being launched (a spawner hands its pipes over asynchronously)
    if (this.closed || this.job?.alive || this.spawnPending) return;
    this.spawnPending = true;
    pacedSpawn(() => {
      this.spawnPending = false;
      this.spawnNow();
    });
  }

  private spawnNow(): void {
    if (this.closed || this.job?.alive) return;
    const job = new FfmpegJob({ name: this.opts.name, command: this.opts.command, args: this.opts.args(), fd3: this.opts.fd3, stdout: 'raw', logger: this.opts.logger });
    this.job = job;
    this.startedAt = Date.now();
    job.on('ready', (child, fd3) => {
      if (this.job === job) this.emit('spawn', child, fd3);
    });
    job.on('exit', (exit) => {
      if (this.job !== job) return;
      this.job = undefined;
      const willRestart = !this.closed;
      if (exit.kind === 'spawn-failed') this.opts.logger?.warn(`[${this.opts.name}] failed to spawn ${this.opts.command}: ${exit.message}`);
      if (this.closed) this.opts.logger?.debug?.(`[${this.opts.name}] exited (${exit.signal ?? exit.code}) on close`);
      else this.opts.logger?.warn(`[${this.opts.name}] exited with ${exit.signal ?? `code ${exit.code}`}; restarting in ${this.backoffMs} ms; stderr: ${exit.stderrTail || '(empty)'}`);
      this.emit('exit', { code: exit.code, signal: exit.signal, stderrTail: exit.stderrTail, willRestart });
      if (willRestart) this.scheduleRestart();
    });
    job.start();
  }

  /** Kill the current child; it is restarted (immediately) unless closed. Used to apply new arguments. */
  restartNow(): void {
    this.backoffMs = this.opts.minBackoffMs ?? 250;
    const job = this.job;
    this.job = undefined;
    job?.kill();
    clearTimeout(this.restartTimer);
    this.start();
  }

  private scheduleRestart(): void {
    const healthy = Date.now() - this.startedAt > (this.opts.healthyAfterMs ?? 10_000);
    if (healthy) this.backoffMs = this.opts.minBackoffMs ?? 250;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 10_000);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start();
    }, delay);
  }

  /**
   * Ends the child's input pipes so it can finish its output (an ffmpeg muxer writes its last segment or trailer),
   * waits for it to exit, and SIGKILLs it after `graceMs`. Never restarts it.
   */
  async stop(graceMs: number): Promise<void> {
    const job = this.job;
    this.close(false);
    await job?.stop(graceMs);
  }

  close(kill = true): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    if (kill) this.job?.kill();
    this.removeAllListeners('spawn');
  }
}
