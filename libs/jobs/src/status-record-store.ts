import type { ChainableCommander, Redis } from 'ioredis';
import { InvalidStateError, NotFoundError } from '@app/core';

/** What the store needs of a record: an id, its room, a lifecycle status and a count of status changes. */
export interface StatusRecord<S extends string> {
  id: string;
  room: string;
  status: S;
  createdAt: string;
  seq: number;
}

export interface StatusRecordKind<T extends StatusRecord<S>, S extends string> {
  /** For messages: "recording", "livestream". */
  noun: string;
  /** Redis key of one record. */
  key: (id: string) => string;
  /** Sorted set of every id by creation time, and the set of unfinished ids (so sweeps never read the history). */
  index: string;
  unfinishedSet: string;
  idPattern: RegExp;
  canTransition: (from: S, to: S) => boolean;
  isFinal: (s: S) => boolean;
  /** More to do in the transaction that makes a record final (e.g. release a lock). */
  onFinal?: (tx: ChainableCommander, cur: T) => void;
}

/** Told about every status change (webhooks, room events). */
export type RecordStatusListener<T> = (r: T) => void | Promise<void>;

/**
 * Job metadata in Redis (survives restarts, shared by server and workers): status changes are checked against the
 * lifecycle, applied atomically (WATCH/MULTI, retried on contention), counted in `seq` and reported to the listener.
 * RecordingStore and LivestreamStore are this with their own lifecycle and creation.
 */
export class StatusRecordStore<T extends StatusRecord<S>, S extends string> {
  constructor(
    protected readonly redis: Redis,
    protected readonly kind: StatusRecordKind<T, S>,
    protected readonly onStatus?: RecordStatusListener<T>,
  ) {}

  /** Stores a new record and reports its first status. */
  protected async insert(rec: T, extra?: (tx: ChainableCommander) => void): Promise<T> {
    const tx = this.redis.multi().set(this.kind.key(rec.id), JSON.stringify(rec)).zadd(this.kind.index, Date.parse(rec.createdAt), rec.id).sadd(this.kind.unfinishedSet, rec.id);
    extra?.(tx);
    await tx.exec();
    await this.onStatus?.(rec);
    return rec;
  }

  async find(id: string): Promise<T | undefined> {
    if (!this.kind.idPattern.test(id)) return undefined;
    const raw = await this.redis.get(this.kind.key(id));
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  async get(id: string): Promise<T> {
    const r = await this.find(id);
    if (!r) throw new NotFoundError(`${this.kind.noun} "${id.slice(0, 40)}" not found`);
    return r;
  }

  /** Applies a patch, and a status change if `status` is given and allowed; returns the new record. */
  async update(id: string, patch: Partial<T>, opts: { allowNoop?: boolean } = {}): Promise<T> {
    const key = this.kind.key(id);
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.redis.watch(key);
      const raw = await this.redis.get(key);
      if (!raw) {
        await this.redis.unwatch();
        throw new NotFoundError(`${this.kind.noun} "${id}" not found`);
      }
      const cur = JSON.parse(raw) as T;
      const to = patch.status;
      const changes = to !== undefined && to !== cur.status;
      if (changes && !this.kind.canTransition(cur.status, to)) {
        await this.redis.unwatch();
        if (opts.allowNoop) return cur;
        throw new InvalidStateError(`${this.kind.noun} ${id} is ${cur.status}; it cannot become ${to}`);
      }
      const next: T = { ...cur, ...patch, status: to ?? cur.status, seq: cur.seq + (changes ? 1 : 0) };
      const tx = this.redis.multi().set(key, JSON.stringify(next));
      if (changes && this.kind.isFinal(next.status)) {
        tx.srem(this.kind.unfinishedSet, id);
        this.kind.onFinal?.(tx, cur);
      }
      const res = await tx.exec();
      if (res === null) continue; // someone else changed it meanwhile: retry
      if (changes) await this.onStatus?.(next);
      return next;
    }
    throw new Error(`${this.kind.noun} ${id}: too much contention`);
  }

  /** Newest first, optionally of one room and/or status; the cursor is the creation time (ms) of the last item given. */
  async page(filter: { room?: string; status?: S; limit: number; cursor?: string }): Promise<{ items: T[]; nextCursor?: string }> {
    const items: T[] = [];
    let from = filter.cursor ? `(${filter.cursor}` : '+inf';
    let last: number | undefined;
    while (items.length < filter.limit) {
      const ids = await this.redis.zrevrangebyscore(this.kind.index, from, '-inf', 'WITHSCORES', 'LIMIT', 0, 200);
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

  /** Records not yet final (for sweeps: deleted or emptied rooms, silent workers). */
  async unfinished(): Promise<T[]> {
    const out: T[] = [];
    for (const id of await this.redis.smembers(this.kind.unfinishedSet)) {
      const r = await this.find(id);
      if (r && !this.kind.isFinal(r.status)) out.push(r);
      else await this.redis.srem(this.kind.unfinishedSet, id);
    }
    return out;
  }
}
