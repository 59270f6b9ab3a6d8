import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, type WebhookJobData } from '../../queues';
import { EVENT_ID_HEADER, webhookSignatureHeaders } from '../../webhook';
import type { Logger } from '@app/media';

const delivered = (id: string) => `${KEY_PREFIX}:wh:${id}:delivered`;

/**
 * Delivers one webhook event. Events of a recording go out in order: an event waits (the job fails and is retried
 * with backoff) until the one before it was delivered, so a receiver that is down for a while still gets every event,
 * once each, in order.
 */
export function webhookProcessor(deps: { redis: Redis; url: string; secret: string; logger?: Logger }) {
  return async (job: Job<WebhookJobData>): Promise<void> => {
    const { recordingId, seq, event } = job.data;
    const done = Number((await deps.redis.get(delivered(recordingId))) ?? 0);
    if (seq <= done) return; // already delivered
    if (seq > done + 1) throw new Error(`event ${seq} of ${recordingId} waits for event ${done + 1}`);
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
    await deps.redis.set(delivered(recordingId), String(seq), 'EX', 7 * 24 * 3600);
    deps.logger?.debug?.(`webhook ${recordingId}#${seq} delivered (attempt ${job.attemptsMade + 1})`, { job: job.id });
  };
}
