import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { NotFoundError, type RoomOptions, type RoomUpdate } from '@app/core';
import { applyRoomUpdate, RoomManager } from '@app/media';
import { ClusterService, type RoomLocation } from '../cluster/cluster.service';
import { roomView, storedRoomView } from './room-view';

type View = Record<string, unknown>;

/**
 * The rooms of the whole cluster, from any node: reads and admin actions go to the node whose worker runs the room
 * (through Redis), or to its stored record when it runs nowhere.
 */
@Injectable()
export class RoomsService implements OnApplicationBootstrap {
  constructor(
    private readonly rooms: RoomManager,
    private readonly cluster: ClusterService,
  ) {}

  onApplicationBootstrap(): void {
    const here = (a: Record<string, unknown>) => {
      const room = this.rooms.find(String(a.room));
      if (!room) throw new NotFoundError(`room "${String(a.room)}" does not run on node ${this.cluster.nodeId}`);
      return room;
    };
    this.cluster.handle('view', async (a) => roomView(here(a), Boolean(a.detailed), this.cluster.nodeId));
    this.cluster.handle('list', async (a) => (a.rooms as string[]).flatMap((n) => {
      const r = this.rooms.find(n);
      return r ? [roomView(r, false, this.cluster.nodeId)] : [];
    }));
    this.cluster.handle('update', async (a) => this.updateHere(String(a.room), a.update as RoomUpdate));
    this.cluster.handle('delete', async (a) => void this.rooms.delete(here(a).name));
  }

  private viewOf(loc: RoomLocation, name: string, detailed: boolean): Promise<View> | View {
    return loc.kind === 'local' ? roomView(loc.room, detailed, this.cluster.nodeId) : this.cluster.call<View>(loc.node, 'view', { room: name, detailed });
  }

  async create(name: string, options: RoomOptions): Promise<View> {
    return this.viewOf(await this.cluster.create(name, options), name, true);
  }

  async get(name: string): Promise<View> {
    const loc = await this.cluster.whereIs(name);
    if (loc) return this.viewOf(loc, name, true);
    return storedRoomView(await this.cluster.stored(name), true);
  }

  /** Every room of the cluster with the node it runs on; a node that does not answer in time shows its rooms from their records. */
  async list(): Promise<View[]> {
    const stored = await this.cluster.store.rooms();
    const holders = await this.cluster.store.leaseHolders(stored.map((r) => r.name));
    const nodes = new Map((await this.cluster.nodes()).map((n) => [n.id, n]));
    const byNode = new Map<string, string[]>();
    const views = new Map<string, View>();
    for (const rec of stored) {
      const local = this.rooms.find(rec.name);
      const holder = holders.get(rec.name);
      if (local) views.set(rec.name, roomView(local, false, this.cluster.nodeId));
      else if (holder && holder !== this.cluster.nodeId && nodes.has(holder)) byNode.set(holder, [...(byNode.get(holder) ?? []), rec.name]);
    }
    await Promise.all(
      [...byNode].map(async ([id, names]) => {
        const got = await this.cluster.call<View[]>(nodes.get(id)!, 'list', { rooms: names }).catch(() => [] as View[]);
        for (const v of got) views.set(String(v.name), v);
      }),
    );
    for (const r of this.rooms.list()) if (!views.has(r.name)) views.set(r.name, roomView(r, false, this.cluster.nodeId));
    // a stored room its (live) node did not report in time: its record, with that node
    for (const rec of stored) {
      const holder = holders.get(rec.name);
      if (!views.has(rec.name)) views.set(rec.name, { ...storedRoomView(rec), node: holder && nodes.has(holder) ? holder : null });
    }
    return [...views.values()].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  }

  private async updateHere(name: string, u: RoomUpdate): Promise<View> {
    const room = this.rooms.find(name);
    if (!room) throw new NotFoundError(`room "${name}" does not run on node ${this.cluster.nodeId}`);
    room.update(u);
    await this.cluster.saveOptions(name, room.options);
    return roomView(room, true, this.cluster.nodeId);
  }

  async update(name: string, u: RoomUpdate): Promise<View> {
    const loc = await this.cluster.whereIs(name);
    if (loc?.kind === 'local') return this.updateHere(name, u);
    if (loc) return this.cluster.call<View>(loc.node, 'update', { room: name, update: u });
    const rec = await this.cluster.stored(name);
    const options = applyRoomUpdate(rec.options, u);
    await this.cluster.saveOptions(name, options);
    return storedRoomView({ ...rec, options }, true);
  }

  async remove(name: string): Promise<void> {
    const loc = await this.cluster.whereIs(name);
    if (loc?.kind === 'local') this.rooms.delete(name);
    else if (loc) await this.cluster.call(loc.node, 'delete', { room: name });
    else await this.cluster.stored(name); // 404 when it does not exist
    await this.cluster.store.deleteRoom(name);
    await this.cluster.broadcast('roomDeleted', { room: name });
  }
}
