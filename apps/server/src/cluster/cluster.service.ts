import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConflictError, DomainError, NODE_HEARTBEAT_MS, NODE_TTL_MS, type NodeRecord, NotFoundError, pickNode, type RoomOptions, ShuttingDownError, nonOverlapping } from '@app/core';
import type { AppConfig } from '@app/config';
import { ClusterStore, NodeBus, type StoredRoom } from '@app/jobs';
import { logLine, type RoomHandle, RoomManager } from '@app/media';
import { AdmissionService } from '../admission/admission.service';
import { REDIS_INFO, type RedisInfo } from '../recordings/jobs.providers';
import { APP_CONFIG } from '../tokens';

/** Where a room's media is: here, on another live node, or nowhere yet. */
export type RoomLocation = { kind: 'local'; room: RoomHandle } | { kind: 'remote'; node: NodeRecord };

type OpHandler = (args: Record<string, unknown>) => Promise<unknown>;

/**
 * This node in the cluster of MCU nodes sharing one Redis (with the embedded Redis, a cluster of one): it registers
 * itself with a heartbeat, holds the leases of the rooms whose media it runs, places new rooms on the node with the most
 * capacity left, and answers other nodes' requests about its rooms (admin actions, session DELETEs, snapshots).
 * Rooms' options live in Redis, so a room outlives its node: when the node dies its leases expire and the next join
 * re-creates the room on a live node.
 */
@Injectable()
export class ClusterService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  readonly nodeId: string;
  readonly store: ClusterStore;
  private readonly bus: NodeBus;
  private readonly ops = new Map<string, OpHandler>();
  private timer?: NodeJS.Timeout;
  private draining = false;
  /** From SIGTERM on, rooms closing here are not deleted rooms: their records stay for another node. */
  private shuttingDown = false;
  private stopping = false;
  private lastBeatOk = 0;
  private readonly keepRecordOf = new Set<string>();
  /** Rooms this node is starting (lease taken, handle being created): not counted twice. */
  private readonly hosting = new Map<string, Promise<RoomHandle>>();

  constructor(
    private readonly rooms: RoomManager,
    private readonly admission: AdmissionService,
    @Inject(REDIS_INFO) redisInfo: RedisInfo,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {
    this.nodeId = config.nodeId;
    // rooms' records and leases are read on every request: time-boxed, so an outage is a 503, not a hang
    this.store = new ClusterStore(redisInfo.connections.create({ request: true }));
    this.bus = new NodeBus(redisInfo.connections.create(), redisInfo.connections.create(), this.nodeId, (m) => this.logger.warn(m));
  }

  async onApplicationBootstrap(): Promise<void> {
    // a room closed here because it was deleted (API, idle) is gone for the cluster too; one closed by a shutdown is not
    this.rooms.on('roomClosed', (name) => {
      if (this.shuttingDown || this.keepRecordOf.has(name)) return;
      void this.store.deleteRoom(name).catch((e: Error) => this.logger.warn(logLine(`room ${name}: could not delete its record: ${e.message}`, { room: name })));
    });
    this.handle('host', async (a) => ({ node: this.nodeId, room: (await this.hostHere(String(a.room))).name }));
    await this.bus.start((op, args) => {
      const h = this.ops.get(op);
      if (!h) return Promise.reject(new DomainError('bad_request', `unknown node request "${op}"`));
      return h((args ?? {}) as Record<string, unknown>);
    });
    await this.beat();
    // one heartbeat at a time: beats of an outage are skipped, not queued up to run at once when Redis answers again
    const beat = nonOverlapping(() => this.beat());
    this.timer = setInterval(() => void beat(), NODE_HEARTBEAT_MS);
    this.logger.log(`node ${this.nodeId} registered (heartbeat ${NODE_HEARTBEAT_MS} ms, TTL ${NODE_TTL_MS} ms)`);
  }

  /** SIGTERM: no new rooms here from now on (other nodes see it at once); this node's rooms finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    this.shuttingDown = true;
    await this.beat();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.bus.close();
    await this.store.removeNode(this.nodeId, this.rooms.list().map((r) => r.name)).catch(() => undefined);
  }

  /** Registers what this node does when another node asks (`op` names are shared by every node). */
  handle(op: string, fn: OpHandler): void {
    this.ops.set(op, fn);
  }

  /** Asks the node hosting a room to do `op` about it. */
  call<T>(node: NodeRecord, op: string, args: Record<string, unknown>): Promise<T> {
    return this.bus.call<T>(node.id, op, args);
  }

  /** Tells every other live node (best effort: a node that does not answer is skipped). */
  async broadcast(op: string, args: Record<string, unknown>): Promise<void> {
    const others = (await this.store.nodes().catch(() => [])).filter((n) => n.id !== this.nodeId);
    await Promise.all(others.map((n) => this.bus.call(n.id, op, args, 1500).catch(() => undefined)));
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Where clients reach this node: PUBLIC_URL, else the address it listens on. */
  publicUrl(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    const addr = this.http.httpAdapter?.getHttpServer()?.address() as AddressInfo | null;
    const host = !this.config.host || this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${addr?.port ?? this.config.port}`;
  }

  record(): NodeRecord {
    const s = this.admission.summary();
    const loads = this.rooms.workers().flatMap((w) => (w.load ? [w.load.elu] : []));
    return {
      id: this.nodeId,
      url: this.publicUrl(),
      coresLeft: s.left.cores,
      roomsLeft: s.left.rooms,
      rooms: this.rooms.list().length,
      load: loads.length ? Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 1000) / 1000 : 0,
      draining: this.draining,
      at: Date.now(),
    };
  }

  private async beat(): Promise<void> {
    if (this.stopping) return;
    try {
      const lost = await this.store.heartbeat(this.record(), this.rooms.list().map((r) => r.name), NODE_TTL_MS);
      this.lastBeatOk = Date.now();
      for (const name of lost) {
        // another node took the room (this one was cut off from Redis for longer than the TTL): two mixes must not run
        this.logger.warn(logLine(`room ${name}: its lease is held by another node now; closing it here`, { room: name }));
        this.keepRecordOf.add(name); // not a deletion: its record stays
        try {
          this.rooms.find(name)?.close('room_closed');
        } finally {
          this.keepRecordOf.delete(name);
        }
      }
    } catch (e) {
      this.logger.warn(`heartbeat: ${(e as Error).message}`);
    }
  }

  /** For /readyz: the registry is reachable and this node's record is fresh. */
  health(): { nodeId: string; url: string; heartbeatAgeMs: number; draining: boolean } {
    return { nodeId: this.nodeId, url: this.publicUrl(), heartbeatAgeMs: this.lastBeatOk ? Date.now() - this.lastBeatOk : -1, draining: this.draining };
  }

  async nodes(): Promise<NodeRecord[]> {
    return this.store.nodes();
  }

  /** The room's stored record, or 404. */
  async stored(name: string): Promise<StoredRoom> {
    const r = await this.store.room(name);
    if (!r) throw new NotFoundError(`room "${name}" not found`);
    return r;
  }

  /** A room exists in the cluster (running here, or stored). */
  async exists(name: string): Promise<boolean> {
    return Boolean(this.rooms.find(name)) || Boolean(await this.store.room(name));
  }

  /** A room's options wherever it is (running here, or stored), or undefined when it does not exist. */
  async roomOptions(name: string): Promise<RoomOptions | undefined> {
    return this.rooms.find(name)?.options ?? (await this.store.room(name))?.options;
  }

  /** Creates a room and places it; 409 when the name is taken anywhere. Returns where it went. */
  async create(name: string, options: RoomOptions): Promise<RoomLocation> {
    if (this.rooms.find(name)) throw new ConflictError(`room "${name}" already exists`);
    const rec: StoredRoom = { name, options, createdAt: new Date().toISOString() };
    if (!(await this.store.createRoom(rec))) throw new ConflictError(`room "${name}" already exists`);
    try {
      return await this.place(rec);
    } catch (e) {
      await this.store.deleteRoom(name).catch(() => undefined);
      throw e;
    }
  }

  /** Where a stored room runs, placing it (taking its lease for the best node) when it runs nowhere. 404 if unknown. */
  async locate(name: string): Promise<RoomLocation> {
    const here = this.rooms.find(name);
    if (here) return { kind: 'local', room: here };
    const rec = await this.stored(name);
    const holder = await this.store.holder(name);
    if (holder === this.nodeId) return { kind: 'local', room: await this.hostHere(name, rec) };
    if (holder) {
      const node = await this.store.node(holder);
      if (node) return { kind: 'remote', node };
    }
    return this.place(rec);
  }

  /** Where a room runs now, without placing it (undefined: it runs nowhere). */
  async whereIs(name: string): Promise<RoomLocation | undefined> {
    const here = this.rooms.find(name);
    if (here) return { kind: 'local', room: here };
    const holder = await this.store.holder(name);
    if (!holder || holder === this.nodeId) return undefined;
    const node = await this.store.node(holder);
    return node ? { kind: 'remote', node } : undefined;
  }

  private async place(rec: StoredRoom): Promise<RoomLocation> {
    const nodes = (await this.store.nodes()).filter((n) => n.id !== this.nodeId);
    const self = this.record();
    const best = pickNode([...nodes, self]);
    if (!best) {
      if (this.draining) throw new ShuttingDownError();
      // no node has room: this node's admission control says which limit
      this.admission.check({ kind: 'room', room: rec.name });
      throw new DomainError('capacity_exceeded', 'no node of the cluster can host another room; try again later', 10);
    }
    const holder = await this.store.takeLease(rec.name, best.id, NODE_TTL_MS);
    if (holder === this.nodeId) return { kind: 'local', room: await this.hostHere(rec.name, rec) };
    const node = holder === best.id ? best : await this.store.node(holder);
    if (!node) throw new DomainError('unavailable', `room "${rec.name}" is moving between nodes; try again`, 1);
    try {
      await this.call(node, 'host', { room: rec.name });
      return { kind: 'remote', node };
    } catch (e) {
      if (e instanceof DomainError && e.code === 'capacity_exceeded') {
        await this.store.releaseLease(rec.name, node.id).catch(() => undefined);
        throw e;
      }
      // that node did not answer: host it here instead if it still can be taken
      this.logger.warn(logLine(`room ${rec.name}: node ${node.id} did not take it (${(e as Error).message}); hosting it here`, { room: rec.name }));
      await this.store.releaseLease(rec.name, node.id).catch(() => undefined);
      const again = await this.store.takeLease(rec.name, this.nodeId, NODE_TTL_MS);
      if (again !== this.nodeId) throw new DomainError('unavailable', `room "${rec.name}" is moving between nodes; try again`, 1);
      return { kind: 'local', room: await this.hostHere(rec.name, rec) };
    }
  }

  /** Runs the room's media on this node (its lease is this node's). */
  private hostHere(name: string, known?: StoredRoom): Promise<RoomHandle> {
    const here = this.rooms.find(name);
    if (here) return Promise.resolve(here);
    const pending = this.hosting.get(name);
    if (pending) return pending;
    const p = (async () => {
      const rec = known ?? (await this.stored(name));
      if (this.draining) throw new ShuttingDownError();
      this.admission.check({ kind: 'room', room: name });
      const holder = await this.store.takeLease(name, this.nodeId, NODE_TTL_MS);
      if (holder !== this.nodeId) throw new DomainError('unavailable', `room "${name}" is hosted by node ${holder}; try again`, 1);
      const room = this.rooms.getOrCreate(name, rec.options);
      this.logger.log(logLine(`room ${name} hosted on node ${this.nodeId}`, { room: name }));
      return room;
    })().finally(() => this.hosting.delete(name));
    this.hosting.set(name, p);
    return p;
  }

  /** Stores new options of a room (PATCH), so a room re-created elsewhere keeps its layout. */
  async saveOptions(name: string, options: RoomOptions): Promise<void> {
    const rec = await this.store.room(name);
    await this.store.saveRoom({ name, options, createdAt: rec?.createdAt ?? new Date().toISOString() });
  }
}
