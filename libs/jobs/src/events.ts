import type { Queue } from 'bullmq';
import type { WebhookJobData } from './queues';
import { type Recording, recordingView } from './recording';
import type { StatusListener } from './recording-store';

/**
 * Turns every recording status change into a webhook job (when WEBHOOK_URL is set): retried with exponential backoff,
 * one job per (recording, seq) so nothing is sent twice, delivered in order by the webhook processor.
 */
export function webhookPublisher(
  queue: Queue<WebhookJobData> | undefined,
  o: { url?: string; attempts: number; backoffMs: number },
  also?: (r: Recording) => void,
): StatusListener {
  return async (r) => {
    also?.(r);
    if (!queue || !o.url) return;
    const event = { type: 'recording.status', seq: r.seq, timestamp: new Date().toISOString(), recording: recordingView(r) };
    await queue.add(
      'recording.status',
      { recordingId: r.id, seq: r.seq, event },
      {
        jobId: `${r.id}-${r.seq}`,
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffMs },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    );
  };
}
