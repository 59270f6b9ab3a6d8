import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UnavailableError } from '@app/core';
import type { Logger } from '../logger';
import { deserializeError, type MainToWorker, type ReplyOf, type WorkerLoad, type WorkerRequest, type WorkerRoomContext, type WorkerToMain } from './protocol';

/** Where the compiled worker entry is: beside this file when running from dist/, else dist/ of the repository (tests run the sources). */
export function workerEntry(): string {
  if (__filename.endsWith('.js')) return path.join(__dirname, 'room-worker.js');
  const built = path.resolve(__dirname, '../../../../dist/libs/media/src/workers/room-worker.js');
  if (!existsSync(built)) throw new Error(`the room worker is not built (${built}): run "npm run build" first`);
  return built;
}

export interface MediaWorkerView {
  index: number;
  threadId: number;
  rooms: string[];
  load?: WorkerLoad;
}

type WorkerEvents = {
  message: [m: WorkerToMain];
  /** The thread died (an uncaught error, or terminated): its rooms are gone. */
  exit: [reason: string];
};

/** One room worker thread: request/reply over postMessage, and the messages it pushes. */
export class MediaWorker extends EventEmitter<WorkerEvents> {
  readonly rooms = new Set<string>();
  /** ffmpeg children this thread started and that have not exited. */
  private readonly children = new Set<number>();
  load?: WorkerLoad;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead = false;
  private readonly worker: Worker;
  readonly ready: Promise<void>;

  constructor(
    readonly index: number,
    ctx: WorkerRoomContext,
    private readonly logger?: Logger,
  ) {
    super();
    this.worker = new Worker(workerEntry(), { name: `room-worker-${index}` });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: WorkerToMain) => (m.type === 'ready' ? resolve() : reject(new Error(`room worker ${index}: unexpected first message ${m.type}`))));
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`room worker ${index} exited (code ${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: WorkerToMain) => this.onMessage(m));
    let failure = '';
    this.worker.on('error', (e) => {
      failure = e.message;
      this.logger?.error?.(`room worker ${index} (thread ${this.worker.threadId}) crashed: ${e.stack ?? e.message}`);
    });
    this.worker.on('exit', (code) => {
      this.dead = true;
      this.killChildren();
      const reason = failure ? `media worker crashed: ${failure}` : `media worker exited (code ${code})`;
      for (const p of this.pending.values()) p.reject(new UnavailableError(`the room's media worker stopped (${reason}); try again`, 1));
      this.pending.clear();
      this.emit('exit', reason);
    });
    this.post({ type: 'init', ctx });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get isDead(): boolean {
    return this.dead;
  }

  private post(m: MainToWorker): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  private onMessage(m: WorkerToMain): void {
    if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(deserializeError(m.error));
      return;
    }
    if (m.type === 'child') {
      if (m.alive) this.children.add(m.pid);
      else this.children.delete(m.pid);
      return;
    }
    if (m.type === 'load') this.load = m.load;
    else if (m.type === 'log') {
      const fn = m.level === 'debug' ? this.logger?.debug : m.level === 'error' ? this.logger?.error : m.level === 'warn' ? this.logger?.warn : this.logger?.log;
      fn?.call(this.logger, m.message, m.fields);
      return;
    }
    this.emit('message', m);
  }

  request<R extends WorkerRequest>(request: R): Promise<ReplyOf<R['op']>> {
    if (this.dead) return Promise.reject(new UnavailableError('the media worker is restarting; try again', 1));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ type: 'request', id, request });
    });
  }

  /** A thread's end does not end the processes it spawned: the ones still running are killed here. */
  private killChildren(): void {
    for (const pid of this.children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.children.size) this.logger?.log(`room worker ${this.index}: killed ${this.children.size} ffmpeg process(es) it left behind`);
    this.children.clear();
  }

  /** Tests: make the thread throw an uncaught error. */
  crash(): void {
    this.post({ type: 'crash' });
  }

  async terminate(): Promise<void> {
    if (this.dead) return;
    await this.worker.terminate();
  }
}

export interface MediaWorkerPoolOptions {
  size: number;
  ctx: WorkerRoomContext;
  logger?: Logger;
}

/**
 * The node's room workers: `size` threads (from the core count, `MEDIA_WORKERS`), rooms spread over them (a room
 * goes to the worker with the fewest rooms, then the least busy). A thread that dies is replaced at once.
 */
export class MediaWorkerPool extends EventEmitter<{ workerExit: [worker: MediaWorker, reason: string] }> {
  private readonly workers: MediaWorker[] = [];
  private closed = false;

  constructor(private readonly o: MediaWorkerPoolOptions) {
    super();
    for (let i = 0; i < o.size; i++) this.workers.push(this.spawn(i));
  }

  private spawn(index: number): MediaWorker {
    const w = new MediaWorker(index, this.o.ctx, this.o.logger);
    w.once('exit', (reason) => {
      if (this.closed) return;
      this.o.logger?.warn(`room worker ${index} is gone (${reason}); rooms lost: ${[...w.rooms].map((k) => k.replace(/#\d+$/, '')).join(', ') || 'none'}; starting a new one`);
      this.workers[index] = this.spawn(index);
      this.emit('workerExit', w, reason);
    });
    return w;
  }

  /** Resolves when every worker has loaded its code (so the first room does not wait for it). */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready));
  }

  /** The worker a new room should go to. */
  pick(): MediaWorker {
    const live = this.workers.filter((w) => !w.isDead);
    if (!live.length) throw new UnavailableError('no media worker is running; try again', 1);
    return live.reduce((best, w) => (w.rooms.size < best.rooms.size || (w.rooms.size === best.rooms.size && (w.load?.elu ?? 0) < (best.load?.elu ?? 0)) ? w : best));
  }

  /** The live worker hosting the room incarnation `key`. */
  workerOf(key: string): MediaWorker | undefined {
    return this.workers.find((w) => !w.isDead && w.rooms.has(key));
  }

  views(): MediaWorkerView[] {
    return this.workers.map((w) => ({ index: w.index, threadId: w.threadId, rooms: [...w.rooms], ...(w.load ? { load: w.load } : {}) }));
  }

  get size(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
  }
}
