import type { ChainableCommander, Redis } from 'ioredis';
import { InvalidStateError, NotFoundError } from '@app/core';

/** What the store needs of a record: an id, its room, a lifecycle status and a count of status changes. */
export interface StatusRecord<S extends string> {
  id: string;
  room: string;
  status: S;
  createdAt: string;
  seq: number;
  /** Count of every write (status or not): the compare-and-set of `update` checks it. Internal; absent in old records. */
  rev?: number;
  /** The worker run that owns the record (see `update`'s `owner`). */
  runId?: string;
}

/** An update fenced by `owner` found the record final or owned by another run: the caller must stop (and write nothing). */
export class OwnershipLostError extends Error {}

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
  /** The problem of a record read back from Redis (see record-validation.ts), or undefined when it is sound. */
  problem: (v: unknown) => string | undefined;
  /** A lock key holding the record's id, released (when it still holds it) by the update that makes the record final. */
  lockKey?: (cur: T) => string;
}

/**
 * The compare-and-set of one update, atomic in Redis: the new record is written only when the stored one is still the
 * one the update was computed from (same write count `rev` and same status, so the lifecycle check made on it holds);
 * a final status also leaves the unfinished set and releases the lock it holds; a status change appends its event to
 * the outbox (see webhook-outbox.ts) in the same step. Returns 1 (written), 0 (changed meanwhile: compute again) or -1
 * (gone). No WATCH: a connection shared by many jobs cannot keep one's watch.
 *   KEYS: record, unfinished set, lock (or the record key when none), outbox (or the record key when none)
 *   ARGV: expected rev, expected status, new JSON, id, '1' when it becomes final, '1' to release the lock, the outbox
 *         entry ('' for none)
 */
export const UPDATE_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local cur = cjson.decode(raw)
local rev = tonumber(cur.rev) or 0
if rev ~= tonumber(ARGV[1]) or cur.status ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[2], ARGV[4])
  if ARGV[6] == '1' and redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
end
if ARGV[7] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[7]) end
return 1
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where each status change's event goes, written atomically with it (see webhook-outbox.ts). */
export interface StatusOutbox<T> {
  key: string;
  entry: (r: T) => string;
}

export interface UpdateOptions {
  /** A disallowed status change returns the record unchanged instead of throwing. */
  allowNoop?: boolean;
  /** Write only as this run (see StatusRecordStore.update). */
  owner?: string;
}

/** Told about every status change (webhooks, room events). */
export type RecordStatusListener<T> = (r: T) => void | Promise<void>;

/**
 * Job metadata in Redis (survives restarts, shared by server and workers): status changes are checked against the
 * lifecycle, applied atomically (a compare-and-set script, see UPDATE_SCRIPT, computed again on contention; the updates of
 * one record by this store are also queued one after the other, so its own jobs do not contend), counted in `seq` and
 * reported to the listener.
 * RecordingStore and LivestreamStore are this with their own lifecycle and creation.
 */
export class StatusRecordStore<T extends StatusRecord<S>, S extends string> {
  constructor(
    protected readonly redis: Redis,
    protected readonly kind: StatusRecordKind<T, S>,
    protected readonly onStatus?: RecordStatusListener<T>,
    protected readonly outbox?: StatusOutbox<T>,
    /** Told about each corrupt record found (once per record and process). */
    private readonly warn?: (message: string) => void,
  ) {}

  /** Corrupt records already reported (bounded: a flood of them is not remembered forever). */
  private readonly reported = new Set<string>();

  /** Stores a new record and reports its first status. */
  protected async insert(rec: T, extra?: (tx: ChainableCommander) => void): Promise<T> {
    const tx = this.redis.multi().set(this.kind.key(rec.id), JSON.stringify(rec)).zadd(this.kind.index, Date.parse(rec.createdAt), rec.id).sadd(this.kind.unfinishedSet, rec.id);
    if (this.outbox) tx.rpush(this.outbox.key, this.outbox.entry(rec));
    extra?.(tx);
    await tx.exec();
    await this.onStatus?.(rec);
    return rec;
  }

  async find(id: string): Promise<T | undefined> {
    if (!this.kind.idPattern.test(id)) return undefined;
    const raw = await this.redis.get(this.kind.key(id));
    if (!raw) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    const problem = value === undefined ? 'not JSON' : this.kind.problem(value);
    if (problem) {
      // never used (its fields could reach a path or a process): as if it did not exist
      if (!this.reported.has(id)) this.warn?.(`${this.kind.noun} ${id}: the record stored in Redis is corrupt (${problem}); ignored`);
      if (this.reported.size > 10_000) this.reported.clear();
      this.reported.add(id);
      return undefined;
    }
    return value as T;
  }

  async get(id: string): Promise<T> {
    const r = await this.find(id);
    if (!r) throw new NotFoundError(`${this.kind.noun} "${id.slice(0, 40)}" not found`);
    return r;
  }

  /** Updates of each record by this store, one after the other (the tail of each record's queue). */
  private readonly queues = new Map<string, Promise<unknown>>();

  /**
   * Applies a patch, and a status change if `status` is given and allowed; returns the new record. With `owner` (a
   * worker run's token) the write is fenced: it throws OwnershipLostError when the record names another run or is
   * already final, so a run that lost its job never writes over the state of the one (or the sweep) that replaced it.
   */
  update(id: string, patch: Partial<T>, opts: UpdateOptions = {}): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const run = prev.then(
      () => this.apply(id, patch, opts),
      () => this.apply(id, patch, opts),
    );
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => this.queues.get(id) === tail && this.queues.delete(id));
    return run;
  }

  private async apply(id: string, patch: Partial<T>, opts: UpdateOptions): Promise<T> {
    const key = this.kind.key(id);
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await this.find(id);
      if (!cur) throw new NotFoundError(`${this.kind.noun} "${id}" not found`);
      if (opts.owner !== undefined && (cur.runId !== opts.owner || this.kind.isFinal(cur.status))) {
        throw new OwnershipLostError(this.kind.isFinal(cur.status) ? `${this.kind.noun} ${id} is already ${cur.status}` : `another run owns ${this.kind.noun} ${id} now`);
      }
      const to = patch.status;
      const changes = to !== undefined && to !== cur.status;
      if (changes && !this.kind.canTransition(cur.status, to)) {
        if (opts.allowNoop) return cur;
        throw new InvalidStateError(`${this.kind.noun} ${id} is ${cur.status}; it cannot become ${to}`);
      }
      const rev = cur.rev ?? 0;
      const next: T = { ...cur, ...patch, status: to ?? cur.status, seq: cur.seq + (changes ? 1 : 0), rev: rev + 1 };
      const final = changes && this.kind.isFinal(next.status);
      const lock = this.kind.lockKey?.(cur);
      const event = changes && this.outbox ? this.outbox.entry(next) : '';
      const outboxKey = this.outbox?.key ?? key;
      const res = await this.redis.eval(UPDATE_SCRIPT, 4, key, this.kind.unfinishedSet, lock ?? key, outboxKey, String(rev), cur.status, JSON.stringify(next), id, final ? '1' : '0', lock ? '1' : '0', event);
      if (res === -1) throw new NotFoundError(`${this.kind.noun} "${id}" not found`);
      if (res !== 1) {
        // another process changed it meanwhile: compute again from what is stored now
        if (attempt > 2) await sleep(Math.random() * 5 * attempt);
        continue;
      }
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
