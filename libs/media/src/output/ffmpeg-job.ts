import { LineBuffer } from './stderr-lines';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { launchChild, trackChild } from '../ffmpeg/launch';
import type { ChildLike } from '../ffmpeg/spawner';
import { type FfmpegExit, ffmpegExit } from './ffmpeg-exit';

export interface FfmpegJobOptions {
  /** Prefix of its log lines: `[name] …`. */
  name: string;
  command: string;
  /** An argument array: never a shell string. */
  args: string[];
  /** A fourth pipe (fd 3) into the child, e.g. a second ffmpeg input. */
  fd3?: boolean;
  /** Its stdout: read and dropped (default), emitted as `stdout` text, or left to whoever handles `ready`. */
  stdout?: 'drain' | 'text' | 'raw';
  /** Applied to everything taken from its output (stderr lines, messages): hides secrets such as a stream key. */
  redact?: (text: string) => string;
  /** How many stderr lines the exit's message carries (default 5). */
  tailLines?: number;
  logger?: { debug?(m: string): void };
}

export type ReadyChild = ChildLike & { stdin: Writable; stdout: Readable };

export interface FfmpegJobEvents {
  /** Its pipes are usable (a spawner hands them over asynchronously). */
  ready: [child: ReadyChild, fd3: Writable | undefined];
  stdout: [text: string];
  /** Once, however it ended (also when it never started). */
  exit: [exit: FfmpegExit];
}

/**
 * One run of ffmpeg: started through `launchChild` (so through this thread's spawner when it has one), with stdin,
 * stdout, stderr and optionally fd 3 piped; its stderr tail kept; a failed start (`error`, e.g. ENOENT) handled and
 * reported like any other end; a graceful stop that ends its input pipes (so a muxer writes its trailer) and SIGKILLs
 * it after a grace. The one lifecycle behind every output of the mix and every supervised mixer process.
 */
export class FfmpegJob extends EventEmitter<FfmpegJobEvents> {
  private child?: ChildLike;
  private ready = false;
  private stderr = '';
  private readonly stderrLines = new LineBuffer();
  private result?: FfmpegExit;
  private readonly ended: Promise<FfmpegExit>;
  private resolveEnded!: (e: FfmpegExit) => void;

  constructor(private readonly o: FfmpegJobOptions) {
    super();
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  /** Starts it (once). */
  start(): this {
    if (this.child) return this;
    const child = launchChild(this.o.command, this.o.args, this.o.fd3 ? 4 : 3);
    this.child = child;
    // without a listener, a missing binary's `error` would crash the whole process (the server, with an embedded worker)
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) this.finish(null, null, err);
    });
    child.once('ready', () => this.onReady(child));
    child.once('close', (code: number | null, signal: string | null) => this.finish(code, signal));
    return this;
  }

  private onReady(child: ChildLike): void {
    if (this.result) return;
    this.ready = true;
    trackChild(child);
    child.stderr?.setEncoding('utf8');
    // redacted line by line: a stream key split across two reads is still seen whole
    child.stderr?.on('data', (d: string) => this.takeStderr(this.stderrLines.push(d)));
    const mode = this.o.stdout ?? 'drain';
    if (mode === 'text') child.stdout?.setEncoding('utf8').on('data', (d: string) => this.emit('stdout', d));
    else if (mode === 'drain') child.stdout?.resume();
    // a closed pipe on a dying child must not crash the process
    for (const s of child.stdio) s?.on('error', () => undefined);
    this.emit('ready', child as ReadyChild, this.o.fd3 ? (child.stdio[3] as Writable) : undefined);
  }

  private takeStderr(lines: string): void {
    if (!lines) return;
    const clean = (this.o.redact ?? ((s: string) => s))(lines);
    this.stderr = (this.stderr + clean).slice(-4000);
    this.o.logger?.debug?.(`[${this.o.name}] ${clean.trimEnd()}`);
  }

  private finish(code: number | null, signal: string | null, spawnError?: NodeJS.ErrnoException): void {
    if (this.result) return;
    this.takeStderr(this.stderrLines.flush());
    const redact = this.o.redact ?? ((s: string) => s);
    const exit = ffmpegExit({ command: this.o.command, code, signal, stderr: this.stderr, spawnError, tailLines: this.o.tailLines });
    this.result = { ...exit, message: redact(exit.message) };
    this.ready = false;
    this.emit('exit', this.result);
    this.resolveEnded(this.result);
  }

  /** Started, pipes usable, not ended. */
  get running(): boolean {
    return this.ready && !this.result;
  }

  /** Started and not ended (its pipes may not be usable yet). */
  get alive(): boolean {
    return this.child !== undefined && !this.result;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get stdin(): Writable | undefined {
    return this.ready ? (this.child?.stdin ?? undefined) : undefined;
  }

  /** How it ended, once it has. */
  get exit(): FfmpegExit | undefined {
    return this.result;
  }

  /** Resolves when it has ended (at once if it has). */
  exited(): Promise<FfmpegExit> {
    return this.ended;
  }

  /**
   * Ends its input pipes so it can finish its output (a muxer writes its trailer or last segment), waits for its end,
   * and SIGKILLs it after `graceMs`. A child whose pipes are not usable yet is killed at once. Resolves with the exit
   * (undefined when it was never started).
   */
  async stop(graceMs: number): Promise<FfmpegExit | undefined> {
    const child = this.child;
    if (!child) return undefined;
    if (this.result) return this.result;
    if (this.ready) {
      child.stdin?.end();
      (child.stdio[3] as Writable | null | undefined)?.end();
    } else child.kill('SIGKILL');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await this.ended;
    clearTimeout(t);
    return exit;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child?.kill(signal);
  }
}
