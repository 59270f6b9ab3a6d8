import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

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
  spawn: [child: ChildProcess & { stdin: Writable; stdout: Readable }, fd3: Writable | undefined];
  exit: [info: { code: number | null; signal: string | null; stderrTail: string; willRestart: boolean }];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export class SupervisedProcess extends EventEmitter<SupervisedProcessEvents> {
  private child?: ChildProcess;
  private closed = false;
  private backoffMs: number;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  restarts = 0;

  constructor(private readonly opts: SupervisedProcessOptions) {
    super();
    this.backoffMs = opts.minBackoffMs ?? 250;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdin(): Writable | undefined {
    return this.child?.stdin ?? undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.closed || this.running) return;
    const args = this.opts.args();
    const child = spawn(this.opts.command, args, { stdio: this.opts.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
    const fd3 = this.opts.fd3 ? (child.stdio[3] as Writable) : undefined;
    track(child);
    this.child = child;
    this.startedAt = Date.now();
    let stderrTail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-2000);
      this.opts.logger?.debug?.(`[${this.opts.name}] ${d.trimEnd()}`);
    });
    // A closed pipe on a dying child must not crash the server.
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('error', () => undefined);
    fd3?.on('error', () => undefined);
    child.once('error', (err) => this.opts.logger?.warn(`[${this.opts.name}] failed to spawn ${this.opts.command}: ${err.message}`));
    child.once('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const willRestart = !this.closed;
      const tail = stderrTail.trim().split('\n').slice(-5).join(' | ');
      if (this.closed) this.opts.logger?.debug?.(`[${this.opts.name}] exited (${signal ?? code}) on close`);
      else this.opts.logger?.warn(`[${this.opts.name}] exited with ${signal ?? `code ${code}`}; restarting in ${this.backoffMs} ms; stderr: ${tail || '(empty)'}`);
      this.emit('exit', { code, signal, stderrTail: tail, willRestart });
      if (willRestart) this.scheduleRestart();
    });
    this.emit('spawn', child as ChildProcess & { stdin: Writable; stdout: Readable }, fd3);
  }

  /** Kill the current child; it is restarted (immediately) unless closed. Used to apply new arguments. */
  restartNow(): void {
    this.backoffMs = this.opts.minBackoffMs ?? 250;
    if (this.child) {
      const c = this.child;
      this.child = undefined;
      c.kill('SIGKILL');
    }
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
    const child = this.child;
    this.close(false);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    child.stdin?.end();
    (child.stdio[3] as Writable | null | undefined)?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }

  close(kill = true): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    if (kill) this.child?.kill('SIGKILL');
    this.removeAllListeners('spawn');
  }
}
