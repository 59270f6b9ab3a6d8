import type { Redis } from 'ioredis';
import { type NodeRecord, nodeRecordFields, parseNodeRecord, type RoomOptions } from '@app/core';
import { KEY_PREFIX } from './queues';

const nodeKey = (id: string) => `${KEY_PREFIX}:node:${id}`;
const NODES = `${KEY_PREFIX}:nodes`;
const roomKey = (name: string) => `${KEY_PREFIX}:room:${name}`;
const ROOMS = `${KEY_PREFIX}:rooms`;
const leaseKey = (name: string) => `${KEY_PREFIX}:lease:${name}`;

/**
 * Takes a room's lease for a node unless a live node holds it: KEYS[1] the lease, KEYS[2] the candidate's record;
 * ARGV node id, ttl ms, node-key prefix. Returns the holder afterwards. Counts the room on the candidate's record at
 * once, so placements between two heartbeats spread.
 */
const TAKE_LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', ARGV[3] .. cur) == 1 then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HINCRBY', KEYS[2], 'rooms', 1) end
return ARGV[1]`;

/** Renews a lease this node holds (or takes it back if it expired and nobody took it); 0 when another node has it. */
const RENEW_LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] or not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** Deletes a lease only if this node holds it. */
const RELEASE_LEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface StoredRoom {
  name: string;
  options: RoomOptions;
  createdAt: string;
}

/**
 * The cluster's shared state in Redis: the node registry (a hash per node with a TTL, renewed by its heartbeat), the
 * rooms' options (they outlive any node) and the room → node leases (a TTL each, renewed by the hosting node).
 */
export class ClusterStore {
  constructor(private readonly redis: Redis) {}

  /** Publishes this node's record and renews its rooms' leases; returns the rooms whose lease another node holds. */
  async heartbeat(record: NodeRecord, rooms: readonly string[], ttlMs: number): Promise<string[]> {
    const m = this.redis.multi();
    m.hset(nodeKey(record.id), nodeRecordFields(record));
    m.pexpire(nodeKey(record.id), ttlMs);
    m.sadd(NODES, record.id);
    for (const r of rooms) m.eval(RENEW_LEASE_LUA, 1, leaseKey(r), record.id, ttlMs);
    const res = (await m.exec()) ?? [];
    const lost: string[] = [];
    rooms.forEach((r, i) => {
      const [err, v] = res[3 + i] ?? [null, 1];
      if (!err && Number(v) === 0) lost.push(r);
    });
    return lost;
  }

  /** A node leaving cleanly: its record and leases go at once (its rooms can be placed elsewhere without waiting). */
  async removeNode(id: string, rooms: readonly string[]): Promise<void> {
    const m = this.redis.multi();
    for (const r of rooms) m.eval(RELEASE_LEASE_LUA, 1, leaseKey(r), id);
    m.del(nodeKey(id));
    m.srem(NODES, id);
    await m.exec();
  }

  /** Live nodes (records that have not expired); forgets ids whose record is gone. */
  async nodes(): Promise<NodeRecord[]> {
    const ids = await this.redis.smembers(NODES);
    if (!ids.length) return [];
    const m = this.redis.multi();
    for (const id of ids) m.hgetall(nodeKey(id));
    const res = (await m.exec()) ?? [];
    const out: NodeRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const rec = parseNodeRecord((res[i]?.[1] ?? {}) as Record<string, string>);
      if (rec) out.push(rec);
      else gone.push(id);
    });
    if (gone.length) await this.redis.srem(NODES, ...gone);
    return out;
  }

  async node(id: string): Promise<NodeRecord | undefined> {
    return parseNodeRecord(await this.redis.hgetall(nodeKey(id)));
  }

  /** Stores a new room; false when the name is taken. */
  async createRoom(room: StoredRoom): Promise<boolean> {
    const ok = await this.redis.set(roomKey(room.name), JSON.stringify(room), 'NX');
    if (ok) await this.redis.sadd(ROOMS, room.name);
    return ok === 'OK';
  }

  async saveRoom(room: StoredRoom): Promise<void> {
    await this.redis.multi().set(roomKey(room.name), JSON.stringify(room)).sadd(ROOMS, room.name).exec();
  }

  async room(name: string): Promise<StoredRoom | undefined> {
    const json = await this.redis.get(roomKey(name));
    return json ? (JSON.parse(json) as StoredRoom) : undefined;
  }

  async rooms(): Promise<StoredRoom[]> {
    const names = (await this.redis.smembers(ROOMS)).sort();
    if (!names.length) return [];
    const jsons = await this.redis.mget(names.map(roomKey));
    return jsons.flatMap((j) => (j ? [JSON.parse(j) as StoredRoom] : []));
  }

  /** Deletes the room's record and lease; true when it existed. */
  async deleteRoom(name: string): Promise<boolean> {
    const res = await this.redis.multi().del(roomKey(name)).del(leaseKey(name)).srem(ROOMS, name).exec();
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  /** The node holding the room's lease, if that node is alive. */
  async holder(name: string): Promise<string | undefined> {
    const id = await this.redis.get(leaseKey(name));
    if (!id) return undefined;
    return (await this.redis.exists(nodeKey(id))) ? id : undefined;
  }

  /** Takes the room for `nodeId` unless a live node holds it; returns the holder afterwards. */
  async takeLease(name: string, nodeId: string, ttlMs: number): Promise<string> {
    return (await this.redis.eval(TAKE_LEASE_LUA, 2, leaseKey(name), nodeKey(nodeId), nodeId, ttlMs, `${KEY_PREFIX}:node:`)) as string;
  }

  async releaseLease(name: string, nodeId: string): Promise<void> {
    await this.redis.eval(RELEASE_LEASE_LUA, 1, leaseKey(name), nodeId);
  }

  /** Holders of many rooms' leases (live or not: the caller checks against the live nodes). */
  async leaseHolders(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!names.length) return out;
    const ids = await this.redis.mget(names.map(leaseKey));
    names.forEach((n, i) => ids[i] && out.set(n, ids[i]!));
    return out;
  }
}
