import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, type WebhookJobData } from '../../queues';
import { EVENT_ID_HEADER, webhookSignatureHeaders } from '../../webhook';
import type { Logger } from '@app/media';

/** The highest event number delivered (as older servers kept it), and a mark per event sent. */
const delivered = (id: string) => `${KEY_PREFIX}:wh:${id}:delivered`;
const sent = (id: string, seq: number) => `${KEY_PREFIX}:wh:${id}:sent:${seq}`;
const KEEP_SECONDS = 7 * 24 * 3600;
/** How often an event waiting for the one before it looks again. */
const WAIT_STEP_MS = 250;

/**
 * Whether event `seq` must still wait for `seq - 1` (pure): while that one is queued (it goes first, whatever its own
 * wait), and while it is missing for at most `gapWaitMs`.
 */
export function waitsForPredecessor(o: { seq: number; predecessorSent: boolean; predecessorQueued: boolean; waitedMs: number; gapWaitMs: number }): boolean {
  return o.seq > 1 && !o.predecessorSent && (o.predecessorQueued || o.waitedMs < o.gapWaitMs);
}

const PENDING_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * Delivers one webhook event. Events of a recording go out in order: an event waits (delayed, without using up its
 * attempts) until the one before it was sent, so a receiver that is down for a while still gets every event, once each,
 * in order. An event never waits more than `gapWaitMs` for a missing one (it is sent, the gap logged): one lost event
 * cannot hold back the rest; should it turn up later, it is still sent (receivers order by `seq`).
 */
export function webhookProcessor(deps: { redis: Redis; url: string; secret: string; gapWaitMs?: number; queue?: Queue<WebhookJobData>; logger?: Logger }) {
  const gapWaitMs = deps.gapWaitMs ?? 30_000;
  return async (job: Job<WebhookJobData>, token?: string): Promise<void> => {
    const { recordingId, seq, event } = job.data;
    const legacyDone = Number((await deps.redis.get(delivered(recordingId))) ?? 0);
    if (seq <= legacyDone || (await deps.redis.exists(sent(recordingId, seq)))) return; // already delivered
    const predecessorSent = seq - 1 <= legacyDone || (await deps.redis.exists(sent(recordingId, seq - 1))) === 1;
    const waitedMs = Date.now() - job.timestamp;
    const before = !predecessorSent && deps.queue ? await deps.queue.getJob(`${recordingId}-${seq - 1}`) : undefined;
    const predecessorQueued = before ? PENDING_STATES.has(await before.getState()) : false;
    if (waitsForPredecessor({ seq, predecessorSent, predecessorQueued, waitedMs, gapWaitMs })) {
      if (!token) throw new Error(`event ${seq} of ${recordingId} waits for event ${seq - 1}`);
      await job.moveToDelayed(Date.now() + WAIT_STEP_MS, token);
      throw new DelayedError();
    }
    if (!predecessorSent) deps.logger?.warn(`webhook ${recordingId}#${seq}: event ${seq - 1} has not been sent after ${Math.round(waitedMs / 1000)} s; sending this one anyway`, { job: job.id });
    const body = JSON.stringify(event);
    let res: Response;
    try {
      res = await fetch(deps.url, {
        method: 'POST',
        // signed per attempt (timestamp and body), so a retry hours later is inside the receiver's replay window
        headers: { 'content-type': 'application/json', ...webhookSignatureHeaders(body, deps.secret), [EVENT_ID_HEADER]: `${recordingId}-${seq}` },
        body,
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new Error(`webhook ${deps.url} unreachable: ${(e as Error).message}`);
    }
    if (!res.ok) throw new Error(`webhook ${deps.url} answered ${res.status}`);
    await deps.redis.set(sent(recordingId, seq), '1', 'EX', KEEP_SECONDS);
    deps.logger?.debug?.(`webhook ${recordingId}#${seq} delivered (attempt ${job.attemptsMade + 1})`, { job: job.id });
  };
}
