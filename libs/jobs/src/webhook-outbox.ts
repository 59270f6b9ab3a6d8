/**
 * The webhook outbox: every recording status event is appended to a Redis list in the same atomic step that writes the
 * status (see StatusRecordStore), so an event exists exactly when its status does, whatever crashes in between. A relay
 * moves the entries to the webhook queue; the job id `<recording>-<seq>` makes a repeated move (a relay that died
 * between adding and removing an entry, or two relays) one job, and the processor skips an event already sent.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, type WebhookJobData } from './queues';
import { type Recording, recordingView } from './recording';

export const WEBHOOK_OUTBOX = `${KEY_PREFIX}:wh:outbox`;

/** The outbox entry of a recording's status (written with it): the webhook job's data, as JSON. */
export function webhookOutboxEntry(r: Recording, now = new Date()): string {
  const data: WebhookJobData = { recordingId: r.id, seq: r.seq, event: { type: 'recording.status', seq: r.seq, timestamp: now.toISOString(), recording: recordingView(r) } };
  return JSON.stringify(data);
}

/** An entry read back, or undefined when it is not one (it is then dropped, never queued). */
export function parseOutboxEntry(raw: string): WebhookJobData | undefined {
  try {
    const d = JSON.parse(raw) as Partial<WebhookJobData>;
    if (typeof d.recordingId !== 'string' || !/^rec_[a-z0-9]{16}$/.test(d.recordingId)) return undefined;
    if (!Number.isInteger(d.seq) || (d.seq as number) < 1 || typeof d.event !== 'object' || d.event === null) return undefined;
    return d as WebhookJobData;
  } catch {
    return undefined;
  }
}

export interface RelayOptions {
  attempts: number;
  backoffMs: number;
  warn?: (m: string) => void;
}

/** Moves up to `batch` outbox entries to the queue (each removed only once queued); returns how many it moved. */
export async function relayWebhookOutbox(redis: Redis, queue: Queue<WebhookJobData>, o: RelayOptions, batch = 100): Promise<number> {
  const raws = await redis.lrange(WEBHOOK_OUTBOX, 0, batch - 1);
  let moved = 0;
  for (const raw of raws) {
    const data = parseOutboxEntry(raw);
    if (data) {
      await queue.add('recording.status', data, {
        jobId: `${data.recordingId}-${data.seq}`,
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffMs },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      });
      moved++;
    } else o.warn?.(`webhook outbox: dropped an entry that is not an event (${raw.slice(0, 80)})`);
    // by value: entries are unique (recording, seq, timestamp), and another relay's entries are never touched
    await redis.lrem(WEBHOOK_OUTBOX, 1, raw);
  }
  return moved;
}

/** Runs the relay every `intervalMs` (never two passes at once) until stopped; a failing pass is logged and retried. */
export function startWebhookRelay(redis: Redis, queue: Queue<WebhookJobData>, o: RelayOptions & { intervalMs?: number }): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> | undefined;
  let lastError = '';
  const pass = async () => {
    try {
      while (!stopped && (await relayWebhookOutbox(redis, queue, o)) > 0);
      lastError = '';
    } catch (e) {
      if ((e as Error).message !== lastError) o.warn?.(`webhook outbox relay: ${(e as Error).message}`);
      lastError = (e as Error).message;
    }
  };
  const tick = () => {
    if (running || stopped) return; // a pass still running (Redis slow or down): this tick is skipped, not queued
    running = pass().finally(() => (running = undefined));
  };
  const timer = setInterval(tick, o.intervalMs ?? 250);
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
