import type { Redis } from 'ioredis';
import { InvalidStateError, NotFoundError } from '@app/core';
import { KEY_PREFIX } from './queues';
import { canLivestreamTransition, isLivestreamFinal, type Livestream, LIVESTREAM_ID_RE, type LivestreamStatus, newLivestreamId } from './livestream';

const lsKey = (id: string) => `${KEY_PREFIX}:ls:${id}`;
const INDEX = `${KEY_PREFIX}:lss`;
/** Ids of livestreams not yet failed or stopped. */
const UNFINISHED = `${KEY_PREFIX}:lss:unfinished`;

/** Told about every status change (e.g. to publish `livestreamStatusChanged` events); same shape as RecordingStore's. */
export type LivestreamStatusListener = (l: Livestream) => void | Promise<void>;

/**
 * Livestream metadata in Redis (survives restarts; shared by server and workers), including the unmasked URL the
 * worker needs. Status changes are checked against the lifecycle, applied atomically (WATCH/MULTI) and reported to
 * the listener.
 */
export class LivestreamStore {
  constructor(
    private readonly redis: Redis,
    private readonly onStatus?: LivestreamStatusListener,
  ) {}

  async create(o: { room: string; url: string }): Promise<Livestream> {
    const id = newLivestreamId();
    const now = new Date();
    const ls: Livestream = {
      id,
      room: o.room,
      url: o.url,
      status: 'queued',
      createdAt: now.toISOString(),
      startedAt: now.toISOString(),
      failedAttempts: 0,
      reconnects: 0,
      seq: 1,
    };
    await this.redis.multi().set(lsKey(id), JSON.stringify(ls)).zadd(INDEX, now.getTime(), id).sadd(UNFINISHED, id).exec();
    await this.onStatus?.(ls);
    return ls;
  }

  async find(id: string): Promise<Livestream | undefined> {
    if (!LIVESTREAM_ID_RE.test(id)) return undefined;
    const raw = await this.redis.get(lsKey(id));
    return raw ? (JSON.parse(raw) as Livestream) : undefined;
  }

  async get(id: string): Promise<Livestream> {
    const l = await this.find(id);
    if (!l) throw new NotFoundError(`livestream "${id.slice(0, 40)}" not found`);
    return l;
  }

  /** Applies a patch, and a status change if `status` is given and allowed; returns the new record. */
  async update(id: string, patch: Partial<Livestream>, opts: { allowNoop?: boolean } = {}): Promise<Livestream> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.redis.watch(lsKey(id));
      const raw = await this.redis.get(lsKey(id));
      if (!raw) {
        await this.redis.unwatch();
        throw new NotFoundError(`livestream "${id}" not found`);
      }
      const cur = JSON.parse(raw) as Livestream;
      const to = patch.status;
      const changes = to !== undefined && to !== cur.status;
      if (changes && !canLivestreamTransition(cur.status, to)) {
        await this.redis.unwatch();
        if (opts.allowNoop) return cur;
        throw new InvalidStateError(`livestream ${id} is ${cur.status}; it cannot become ${to}`);
      }
      const next: Livestream = { ...cur, ...patch, status: to ?? cur.status, seq: cur.seq + (changes ? 1 : 0) };
      const tx = this.redis.multi().set(lsKey(id), JSON.stringify(next));
      if (changes && isLivestreamFinal(next.status)) tx.srem(UNFINISHED, id);
      const res = await tx.exec();
      if (res === null) continue; // changed meanwhile: retry
      if (changes) await this.onStatus?.(next);
      return next;
    }
    throw new Error(`livestream ${id}: too much contention`);
  }

  /** Newest first, optionally of one room and/or status. */
  async list(filter: { room?: string; status?: LivestreamStatus; limit: number }): Promise<Livestream[]> {
    const items: Livestream[] = [];
    let from = '+inf';
    for (;;) {
      const ids = await this.redis.zrevrangebyscore(INDEX, from, '-inf', 'WITHSCORES', 'LIMIT', 0, 200);
      if (ids.length === 0) break;
      let last = 0;
      for (let i = 0; i < ids.length && items.length < filter.limit; i += 2) {
        last = Number(ids[i + 1]);
        const l = await this.find(ids[i]);
        if (!l || (filter.room && l.room !== filter.room) || (filter.status && l.status !== filter.status)) continue;
        items.push(l);
      }
      if (items.length >= filter.limit || ids.length < 400) break;
      from = `(${last}`;
    }
    return items;
  }

  async unfinished(): Promise<Livestream[]> {
    const out: Livestream[] = [];
    for (const id of await this.redis.smembers(UNFINISHED)) {
      const l = await this.find(id);
      if (l && !isLivestreamFinal(l.status)) out.push(l);
      else await this.redis.srem(UNFINISHED, id);
    }
    return out;
  }
}
