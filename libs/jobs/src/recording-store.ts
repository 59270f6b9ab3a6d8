import type { Redis } from 'ioredis';
import { ConflictError, InvalidStateError, NotFoundError } from '@app/core';
import { KEY_PREFIX } from './queues';
import { canTransition, isFinal, newRecordingId, type Recording, type RecordingFormat, type RecordingStatus, RECORDING_ID_RE } from './recording';

const recKey = (id: string) => `${KEY_PREFIX}:rec:${id}`;
const INDEX = `${KEY_PREFIX}:recs`;
/** Ids of recordings not yet ready or failed, so sweeps do not read the whole history. */
const UNFINISHED = `${KEY_PREFIX}:recs:unfinished`;
const activeKey = (room: string, audioOnly: boolean) => `${KEY_PREFIX}:rec:active:${room}:${audioOnly ? 'audio' : 'av'}`;

export type StatusListener = (r: Recording) => void | Promise<void>;

/**
 * Recording metadata in Redis (so it survives restarts and is shared by server and workers). Status changes are
 * checked against the lifecycle, applied atomically (WATCH/MULTI) and reported to the listener (webhooks).
 */
export class RecordingStore {
  constructor(
    private readonly redis: Redis,
    private readonly onStatus?: StatusListener,
  ) {}

  async create(o: { room: string; format: RecordingFormat; audioOnly: boolean; name?: string }): Promise<Recording> {
    const id = newRecordingId();
    const lock = activeKey(o.room, o.audioOnly);
    const ok = await this.redis.set(lock, id, 'NX');
    if (ok !== 'OK') {
      const other = await this.redis.get(lock);
      throw new ConflictError(`room "${o.room}" already has an active ${o.audioOnly ? 'audio-only ' : ''}recording (${other})`);
    }
    const now = new Date();
    const rec: Recording = {
      id,
      room: o.room,
      name: o.name ?? `${o.room}-${now.toISOString().replace(/[:.]/g, '-')}`,
      format: o.format,
      audioOnly: o.audioOnly,
      status: 'queued',
      createdAt: now.toISOString(),
      seq: 1,
    };
    await this.redis.multi().set(recKey(id), JSON.stringify(rec)).zadd(INDEX, now.getTime(), id).sadd(UNFINISHED, id).exec();
    await this.onStatus?.(rec);
    return rec;
  }

  async find(id: string): Promise<Recording | undefined> {
    if (!RECORDING_ID_RE.test(id)) return undefined;
    const raw = await this.redis.get(recKey(id));
    return raw ? (JSON.parse(raw) as Recording) : undefined;
  }

  async get(id: string): Promise<Recording> {
    const r = await this.find(id);
    if (!r) throw new NotFoundError(`recording "${id.slice(0, 40)}" not found`);
    return r;
  }

  /** Applies a patch, and a status change if `status` is given and allowed; returns the new record. */
  async update(id: string, patch: Partial<Recording>, opts: { allowNoop?: boolean } = {}): Promise<Recording> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.redis.watch(recKey(id));
      const raw = await this.redis.get(recKey(id));
      if (!raw) {
        await this.redis.unwatch();
        throw new NotFoundError(`recording "${id}" not found`);
      }
      const cur = JSON.parse(raw) as Recording;
      const to = patch.status;
      const changes = to !== undefined && to !== cur.status;
      if (changes && !canTransition(cur.status, to)) {
        await this.redis.unwatch();
        if (opts.allowNoop) return cur;
        throw new InvalidStateError(`recording ${id} is ${cur.status}; it cannot become ${to}`);
      }
      const next: Recording = { ...cur, ...patch, status: to ?? cur.status, seq: cur.seq + (changes ? 1 : 0) };
      const tx = this.redis.multi().set(recKey(id), JSON.stringify(next));
      if (changes && isFinal(next.status)) {
        tx.srem(UNFINISHED, id);
        // release the room's "one active recording" lock if it is still ours
        tx.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, activeKey(cur.room, cur.audioOnly), id);
      }
      const res = await tx.exec();
      if (res === null) continue; // someone else changed it meanwhile: retry
      if (changes) await this.onStatus?.(next);
      return next;
    }
    throw new Error(`recording ${id}: too much contention`);
  }

  async list(filter: { room?: string; status?: RecordingStatus; limit: number; cursor?: string }): Promise<{ items: Recording[]; nextCursor?: string }> {
    // newest first; the cursor is the createdAt score (ms) of the last item returned
    const max = filter.cursor ? `(${filter.cursor}` : '+inf';
    const items: Recording[] = [];
    let from = max;
    let last: number | undefined;
    while (items.length < filter.limit) {
      const ids = await this.redis.zrevrangebyscore(INDEX, from, '-inf', 'WITHSCORES', 'LIMIT', 0, 200);
      if (ids.length === 0) break;
      for (let i = 0; i < ids.length && items.length < filter.limit; i += 2) {
        last = Number(ids[i + 1]);
        const r = await this.find(ids[i]);
        if (!r || (filter.room && r.room !== filter.room) || (filter.status && r.status !== filter.status)) continue;
        items.push(r);
      }
      if (ids.length < 400 || last === undefined) break;
      from = `(${last}`;
    }
    return { items, ...(items.length === filter.limit && last !== undefined ? { nextCursor: String(last) } : {}) };
  }

  /** Records that are neither ready nor failed (for sweeps: room deleted/emptied, dead workers). */
  async unfinished(): Promise<Recording[]> {
    const ids = await this.redis.smembers(UNFINISHED);
    const out: Recording[] = [];
    for (const id of ids) {
      const r = await this.find(id);
      if (r && !isFinal(r.status)) out.push(r);
      else await this.redis.srem(UNFINISHED, id);
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    const r = await this.get(id);
    await this.redis
      .multi()
      .del(recKey(id))
      .zrem(INDEX, id)
      .srem(UNFINISHED, id)
      .eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, activeKey(r.room, r.audioOnly), id)
      .exec();
  }
}
