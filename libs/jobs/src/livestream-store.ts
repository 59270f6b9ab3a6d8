import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './queues';
import { canLivestreamTransition, isLivestreamFinal, type Livestream, LIVESTREAM_ID_RE, type LivestreamStatus, newLivestreamId } from './livestream';
import { livestreamRecordProblem } from './record-validation';
import { type RecordStatusListener, StatusRecordStore } from './status-record-store';

const lsKey = (id: string) => `${KEY_PREFIX}:ls:${id}`;
const INDEX = `${KEY_PREFIX}:lss`;
/** Ids of livestreams not yet failed or stopped. */
const UNFINISHED = `${KEY_PREFIX}:lss:unfinished`;

/** Told about every status change (e.g. to publish `livestreamStatusChanged` events). */
export type LivestreamStatusListener = RecordStatusListener<Livestream>;

/** Livestream metadata in Redis (see StatusRecordStore), including the unmasked URL the worker needs. */
export class LivestreamStore extends StatusRecordStore<Livestream, LivestreamStatus> {
  constructor(redis: Redis, onStatus?: LivestreamStatusListener, o: { warn?: (message: string) => void } = {}) {
    super(
      redis,
      {
        noun: 'livestream',
        key: lsKey,
        index: INDEX,
        unfinishedSet: UNFINISHED,
        idPattern: LIVESTREAM_ID_RE,
        canTransition: canLivestreamTransition,
        isFinal: isLivestreamFinal,
        problem: livestreamRecordProblem,
      },
      onStatus,
      undefined,
      o.warn,
    );
  }

  create(o: { room: string; url: string }): Promise<Livestream> {
    const now = new Date().toISOString();
    return this.insert({ id: newLivestreamId(), room: o.room, url: o.url, status: 'queued', createdAt: now, startedAt: now, failedAttempts: 0, reconnects: 0, seq: 1 });
  }

  /** Newest first, optionally of one room and/or status. */
  async list(filter: { room?: string; status?: LivestreamStatus; limit: number }): Promise<Livestream[]> {
    return (await this.page(filter)).items;
  }
}
