import type { Redis } from 'ioredis';
import { ConflictError } from '@app/core';
import { KEY_PREFIX } from './queues';
import { canTransition, isFinal, newRecordingId, type Recording, type RecordingFormat, type RecordingStatus, RECORDING_ID_RE } from './recording';
import { recordingRecordProblem } from './record-validation';
import { type RecordStatusListener, StatusRecordStore } from './status-record-store';
import { WEBHOOK_OUTBOX, webhookOutboxEntry } from './webhook-outbox';

const recKey = (id: string) => `${KEY_PREFIX}:rec:${id}`;
const INDEX = `${KEY_PREFIX}:recs`;
/** Ids of recordings not yet ready or failed, so sweeps do not read the whole history. */
const UNFINISHED = `${KEY_PREFIX}:recs:unfinished`;
const activeKey = (room: string, audioOnly: boolean) => `${KEY_PREFIX}:rec:active:${room}:${audioOnly ? 'audio' : 'av'}`;

export type StatusListener = RecordStatusListener<Recording>;

const LOCK_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * Recording metadata in Redis (see StatusRecordStore), plus the room's "one active recording of each kind" lock, taken
 * at creation and released when the recording ends or is removed.
 */
export class RecordingStore extends StatusRecordStore<Recording, RecordingStatus> {
  /**
   * `webhooks`: every status change's webhook event is written to the outbox with it (WEBHOOK_URL set); a relay queues
   * them (see webhook-outbox.ts). `onStatus` is told after the write (room events: best effort).
   */
  constructor(redis: Redis, onStatus?: StatusListener, o: { webhooks?: boolean; warn?: (message: string) => void } = {}) {
    super(
      redis,
      {
        noun: 'recording',
        key: recKey,
        index: INDEX,
        unfinishedSet: UNFINISHED,
        idPattern: RECORDING_ID_RE,
        canTransition,
        isFinal,
        problem: recordingRecordProblem,
        lockKey: (cur) => activeKey(cur.room, cur.audioOnly),
      },
      onStatus,
      o.webhooks ? { key: WEBHOOK_OUTBOX, entry: (r) => webhookOutboxEntry(r) } : undefined,
      o.warn,
    );
  }

  async create(o: { room: string; format: RecordingFormat; audioOnly: boolean; name?: string }): Promise<Recording> {
    const id = newRecordingId();
    const lock = activeKey(o.room, o.audioOnly);
    const ok = await this.redis.set(lock, id, 'NX');
    if (ok !== 'OK') {
      const other = await this.redis.get(lock);
      throw new ConflictError(`room "${o.room}" already has an active ${o.audioOnly ? 'audio-only ' : ''}recording (${other})`);
    }
    const now = new Date();
    return this.insert({
      id,
      room: o.room,
      name: o.name ?? `${o.room}-${now.toISOString().replace(/[:.]/g, '-')}`,
      format: o.format,
      audioOnly: o.audioOnly,
      status: 'queued',
      createdAt: now.toISOString(),
      seq: 1,
    });
  }

  list(filter: { room?: string; status?: RecordingStatus; limit: number; cursor?: string }): Promise<{ items: Recording[]; nextCursor?: string }> {
    return this.page(filter);
  }

  async remove(id: string): Promise<void> {
    const r = await this.get(id);
    await this.redis.multi().del(recKey(id)).zrem(INDEX, id).srem(UNFINISHED, id).eval(LOCK_RELEASE, 1, activeKey(r.room, r.audioOnly), id).exec();
  }
}
