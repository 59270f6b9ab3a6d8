import { EventEmitter } from 'node:events';
import { ConflictError, NotFoundError, type RoomOptions } from '@app/core';
import type { Logger } from '../logger';
import { type MediaWorker, MediaWorkerPool, type MediaWorkerView } from '../workers/media-worker-pool';
import type { WorkerToMain } from '../workers/protocol';
import type { RtcNetworkOptions } from '../webrtc/peer-factory';
import type { RemoteMixTap } from './remote-mix-tap';
import { RoomHandle } from './room-handle';

export interface RoomManagerOptions {
  ffmpegPath: string;
  network: RtcNetworkOptions;
  publisherTimeoutMs: number;
  /** SESSION_CONNECT_TIMEOUT_SECONDS in ms (default 20 s). */
  connectTimeoutMs?: number;
  maxPublishers: number;
  /** Room worker threads (`MEDIA_WORKERS`). */
  workers: number;
  logger?: Logger;
  /** Forward the workers' debug log lines. */
  debugLogs?: boolean;
}

/**
 * Owns every room of this node. Each room's media runs in one of the node's room worker threads; here are the
 * rooms' handles, the pool, and the routing of the workers' messages to the rooms and taps they are about.
 */
export class RoomManager extends EventEmitter<{ roomCreated: [room: RoomHandle]; roomClosed: [name: string] }> {
  private readonly rooms = new Map<string, RoomHandle>();
  /** Room incarnations by their key in a worker. */
  private readonly byKey = new Map<string, RoomHandle>();
  private readonly taps = new Map<string, RemoteMixTap>();
  readonly pool: MediaWorkerPool;
  private readonly listening = new WeakSet<MediaWorker>();

  constructor(private readonly o: RoomManagerOptions) {
    super();
    this.pool = new MediaWorkerPool({
      size: o.workers,
      ctx: { ffmpegPath: o.ffmpegPath, network: o.network, publisherTimeoutMs: o.publisherTimeoutMs, connectTimeoutMs: o.connectTimeoutMs, maxPublishers: o.maxPublishers, debugLogs: o.debugLogs ?? false },
      logger: o.logger,
    });
    this.pool.on('workerExit', (w, reason) => {
      for (const key of w.rooms) this.byKey.get(key)?.onWorkerLost(reason);
    });
  }

  /** Resolves once every worker has loaded (the server waits for it before it listens). */
  ready(): Promise<void> {
    return this.pool.ready();
  }

  private route(m: WorkerToMain): void {
    switch (m.type) {
      case 'state':
      case 'event':
      case 'roomClosed':
        this.byKey.get(m.room)?.onWorkerMessage(m);
        return;
      case 'tapVideo':
        this.taps.get(m.tap)?.pushVideo(m.frame);
        return;
      case 'tapAudio':
        this.taps.get(m.tap)?.pushAudio(m.opus, m.rtpTimestamp);
        return;
      case 'tapClosed':
        this.taps.get(m.tap)?.end(m.reason);
        this.taps.delete(m.tap);
        return;
    }
  }

  private attach(handle: RoomHandle): MediaWorker {
    const w = this.pool.pick();
    if (!this.listening.has(w)) {
      this.listening.add(w);
      w.on('message', (m) => this.route(m));
    }
    const key = handle.key;
    this.byKey.set(key, handle);
    w.rooms.add(key);
    w.request({ op: 'createRoom', room: key, name: handle.name, options: handle.options }).catch((e: Error) =>
      this.o.logger?.warn(`[room ${handle.name}] could not start in room worker ${w.index}: ${e.message}`, { room: handle.name }),
    );
    const forget = () => {
      w.rooms.delete(key);
      if (this.byKey.get(key) === handle) this.byKey.delete(key);
    };
    w.once('exit', () => forget());
    handle.once('closed', forget);
    return w;
  }

  create(name: string, options: RoomOptions): RoomHandle {
    if (this.rooms.has(name)) throw new ConflictError(`room "${name}" already exists`);
    const room = new RoomHandle(name, options, {
      attach: (h) => this.attach(h),
      registerTap: (id, tap) => {
        this.taps.set(id, tap);
        tap.once('closed', () => this.taps.delete(id));
      },
      logger: this.o.logger,
    });
    this.rooms.set(name, room);
    room.once('closed', () => {
      if (this.rooms.get(name) === room) this.rooms.delete(name);
      this.emit('roomClosed', name);
    });
    this.emit('roomCreated', room);
    this.o.logger?.log(
      `room ${name} created (${options.width}x${options.height}@${options.fps}, ${options.videoCodec} ${options.videoBitrateKbps} kbps) in room worker ${room.workerIndex}`,
      { room: name },
    );
    return room;
  }

  getOrCreate(name: string, options: RoomOptions): RoomHandle {
    return this.rooms.get(name) ?? this.create(name, options);
  }

  get(name: string): RoomHandle {
    const room = this.rooms.get(name);
    if (!room) throw new NotFoundError(`room "${name}" not found`);
    return room;
  }

  find(name: string): RoomHandle | undefined {
    return this.rooms.get(name);
  }

  list(): RoomHandle[] {
    return [...this.rooms.values()];
  }

  delete(name: string): void {
    this.get(name).close('room_closed');
  }

  workers(): MediaWorkerView[] {
    return this.pool.views();
  }

  /** Tests: an uncaught error in the worker thread hosting `room`. */
  injectWorkerFault(room: string): void {
    const h = this.get(room);
    const w = this.pool.workerOf(h.key);
    if (!w) throw new NotFoundError(`room "${room}" has no worker`);
    w.crash();
  }

  async close(): Promise<void> {
    const rooms = [...this.rooms.values()];
    for (const r of rooms) r.close('room_closed');
    // the workers stop their rooms' peers and ffmpeg children before the threads go (bounded: a stuck worker is terminated anyway)
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(rooms.map((r) => r.closing)), new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
    await this.pool.close();
  }
}
