import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

/**
 * Children (ffmpeg) started by a small helper process instead of by this one.
 *
 * Why: `spawn()` forks the calling process. Forking a server of several hundred MB copies its page tables while the
 * memory map is locked, and marks every page copy-on-write: measured on the 2-core CI machine, ~21 ms per spawn during
 * which the server's *other* threads stall too (their page faults wait for the lock, then each first write to a page
 * faults again). A join spawns decoders, so a join in one room froze the picture of every other room for 600–800 ms.
 * The spawner is a bare Node process (~40 MB) forked once when a room thread starts; it spawns each ffmpeg (a ~2 ms
 * fork of a small process, on another process's clock) and hands the child's stdio pipes back over its IPC channel,
 * so the bytes still flow straight between this thread and ffmpeg, with no copy through the spawner.
 *
 * The spawner kills its children when its parent goes away (the IPC channel closes when this thread or process ends,
 * kill -9 included), and if the spawner itself dies its children are killed from here (their pids are known).
 */

/** What SupervisedProcess needs of a child: the subset of ChildProcess both launchers provide. */
export interface ChildLike extends EventEmitter {
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly stdio: ReadonlyArray<Readable | Writable | null | undefined>;
  kill(signal?: NodeJS.Signals): boolean;
}

/** Starts a child with 3 or 4 piped fds. The result emits 'ready' once its pipes are usable, or 'error'; then 'exit' and 'close'. */
export type Launch = (command: string, args: string[], fds: 3 | 4) => ChildLike;

/** The direct way: spawn from this process (ready at once). */
export const directLaunch: Launch = (command, args, fds) => {
  const child = spawn(command, args, { stdio: fds === 4 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  if (child.pid !== undefined) queueMicrotask(() => child.emit('ready'));
  return child as ChildProcess & ChildLike;
};

/** The spawner's own code, run with `node -e` so it needs no file on disk (works from dist and under ts-jest alike). */
const SPAWNER_SOURCE = `
const { spawn } = require('node:child_process');
const kids = new Map();
const send = (m, h) => { try { if (process.connected) process.send(m, h); } catch {} };
// a send racing the parent's death fails asynchronously: that must not kill the spawner before it kills its children
process.on('error', () => {});
const parent = Number(process.argv[1]);
const end = () => {
  for (const c of kids.values()) c.kill('SIGKILL');
  process.exit(0);
};
// The parent's end: its stdin pipe reaches EOF (the most reliable sign: Node's IPC channel, closed while a handle
// is in flight, has been seen not to emit 'disconnect'), the channel disconnects, or we were reparented.
process.stdin.on('end', end).on('error', end).resume();
process.on('disconnect', end);
setInterval(() => { if (process.ppid !== parent) end(); }, 500).unref();
process.on('message', (m) => {
  if (m.t === 'spawn') {
    if (!process.connected) return;
    let c;
    try {
      c = spawn(m.command, m.args, { stdio: Array(m.fds).fill('pipe') });
    } catch (e) {
      send({ t: 'error', id: m.id, message: String((e && e.message) || e), code: e && e.code });
      return;
    }
    c.once('error', (e) => send({ t: 'error', id: m.id, message: e.message, code: e.code }));
    if (c.pid === undefined) return;
    kids.set(m.id, c);
    send({ t: 'spawned', id: m.id, pid: c.pid });
    for (let fd = 0; fd < m.fds; fd++) send({ t: 'fd', id: m.id, fd }, c.stdio[fd]);
    c.once('exit', (code, signal) => {
      kids.delete(m.id);
      send({ t: 'exit', id: m.id, code, signal });
    });
  }
});
`;

type FromSpawner =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'fd'; id: number; fd: number }
  | { t: 'error'; id: number; message: string; code?: string }
  | { t: 'exit'; id: number; code: number | null; signal: string | null };

/** A child started by the spawner: its pipes arrive one by one after 'spawned'. */
class RemoteChild extends EventEmitter implements ChildLike {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: string | null = null;
  readonly stdio: Array<Socket | null> = [];
  private received = 0;
  /** kill() before the pid is known: sent as soon as it is. */
  private pendingSignal?: NodeJS.Signals;

  constructor(private readonly fds: number) {
    super();
  }

  get stdin(): Writable | null {
    return this.stdio[0] ?? null;
  }
  get stdout(): Readable | null {
    return this.stdio[1] ?? null;
  }
  get stderr(): Readable | null {
    return this.stdio[2] ?? null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    if (this.pid === undefined) {
      this.pendingSignal = signal;
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** @internal */
  spawned(pid: number): void {
    this.pid = pid;
    if (this.pendingSignal) this.kill(this.pendingSignal);
  }

  /** @internal */
  gotFd(fd: number, socket: Socket | undefined): void {
    this.stdio[fd] = socket ?? null;
    if (++this.received === this.fds) this.emit('ready');
  }

  /** @internal: it never started; like ChildProcess, 'error' then 'close'. */
  failed(err: Error): void {
    this.emit('error', err);
    this.emit('close', null, null);
  }

  /** @internal: the child exited; 'close' follows once its output pipes have drained (as ChildProcess does). */
  exited(code: number | null, signal: string | null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    const readers = [this.stdout, this.stderr].filter((s): s is Socket => !!s && !s.destroyed && !s.readableEnded);
    let left = readers.length;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(cap);
      for (const s of this.stdio) s?.destroy();
      this.emit('close', code, signal);
    };
    // a grandchild holding the pipe open must not keep 'close' back for ever
    const cap = setTimeout(close, 500);
    cap.unref?.();
    if (!left) close();
    for (const s of readers) s.once('close', () => --left === 0 && close());
  }
}

export class Spawner {
  private proc?: ChildProcess;
  private nextId = 1;
  private readonly children = new Map<number, RemoteChild>();
  private failures = 0;

  constructor(private readonly logger?: { warn(m: string): void }) {}

  /** Starts the helper process now (forking this process once), so the first room's joins do not pay for it. */
  warm(): void {
    this.ensure();
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** False after repeated failures to keep a spawner running: callers fall back to spawning directly. */
  get usable(): boolean {
    return this.failures < 3;
  }

  launch: Launch = (command, args, fds) => {
    const proc = this.ensure();
    const id = this.nextId++;
    const child = new RemoteChild(fds);
    this.children.set(id, child);
    proc.send({ t: 'spawn', id, command, args, fds });
    return child;
  };

  close(): void {
    const p = this.proc;
    this.proc = undefined;
    p?.kill('SIGKILL');
  }

  private ensure(): ChildProcess {
    if (this.proc) return this.proc;
    // stdin is a pipe we never write to: its EOF tells the spawner we are gone (see SPAWNER_SOURCE)
    const proc = spawn(process.execPath, ['-e', SPAWNER_SOURCE, String(process.pid)], { stdio: ['pipe', 'inherit', 'inherit', 'ipc'] });
    this.proc = proc;
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    proc.stdin?.on('error', () => undefined);
    (proc.channel as { unref?: () => void } | undefined)?.unref?.();
    proc.on('message', (m: FromSpawner, handle?: Socket) => this.onMessage(m, handle));
    proc.once('error', (e) => this.logger?.warn(`[spawner] ${e.message}`));
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = undefined;
      if (this.children.size) {
        this.failures++;
        this.logger?.warn(`[spawner] helper process exited (${signal ?? code}); killing its ${this.children.size} children`);
      }
      for (const [id, c] of this.children) {
        c.kill('SIGKILL');
        if (c.pid === undefined) c.failed(Object.assign(new Error('the spawner process exited'), { code: 'ESPAWNER' }));
        else c.exited(null, 'SIGKILL');
        this.children.delete(id);
      }
    });
    return proc;
  }

  private onMessage(m: FromSpawner, handle?: Socket): void {
    const c = this.children.get(m.id);
    if (!c) {
      handle?.destroy();
      return;
    }
    switch (m.t) {
      case 'spawned':
        c.spawned(m.pid);
        break;
      case 'fd':
        c.gotFd(m.fd, handle);
        break;
      case 'error':
        this.children.delete(m.id);
        if (c.pid === undefined) c.failed(Object.assign(new Error(m.message), { code: m.code }));
        else {
          c.emit('error', Object.assign(new Error(m.message), { code: m.code }));
          c.exited(null, null);
        }
        break;
      case 'exit':
        this.children.delete(m.id);
        c.exited(m.code, m.signal);
        break;
    }
  }
}
