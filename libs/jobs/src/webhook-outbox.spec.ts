import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { QUEUE_WEBHOOKS, type WebhookJobData } from './queues';
import { RecordingStore } from './recording-store';
import { startTestRedis, type TestRedis } from './testing/redis-server';
import { startWebhookRelay } from './webhook-outbox';
import { waitsForPredecessor, webhookProcessor } from './worker/webhooks/webhook.processor';

/** A receiver that records the events POSTed to it. */
async function receiver() {
  const events: Array<{ recordingId: string; seq: number; status: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const e = JSON.parse(body) as { seq: number; recording: { id: string; status: string } };
      events.push({ recordingId: e.recording.id, seq: e.seq, status: e.recording.status });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const waitFor = async (ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return ok();
};

describe('webhook events: outbox, relay, delivery (real Redis, BullMQ, HTTP)', () => {
  let redis: TestRedis;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let queue: Queue<WebhookJobData>;
  let worker: Worker<WebhookJobData> | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    hook = await receiver();
    queue = new Queue<WebhookJobData>(QUEUE_WEBHOOKS, { connection: redis.connect() });
  });
  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await hook?.close();
    await redis?.stop();
  });

  const startDelivery = (gapWaitMs: number) => {
    worker = new Worker<WebhookJobData>(QUEUE_WEBHOOKS, webhookProcessor({ redis: redis.connect(), url: hook.url, secret: 's', gapWaitMs, queue }), { connection: redis.connect(), concurrency: 4 });
  };

  it('an event written with its status but never queued (the process died right after) is delivered once a relay runs', async () => {
    // the "crash": the status listener throws after the write, and no relay runs yet
    const store = new RecordingStore(
      redis.connect(),
      () => {
        throw new Error('the process died here');
      },
      { webhooks: true },
    );
    const rec = await store.create({ room: 'outbox', format: 'mp4', audioOnly: false }).catch(() => undefined);
    expect(rec).toBeUndefined(); // create reported the crash …
    const [id] = await redis.connect().smembers('mcu:recs:unfinished');
    await store.update(id, { status: 'starting' }).catch(() => undefined);
    await store.update(id, { status: 'active' }).catch(() => undefined);
    startDelivery(30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.events).toEqual([]); // … nothing was queued: without the relay, nothing is sent
    const relay = startWebhookRelay(redis.connect(), queue, { attempts: 5, backoffMs: 100 });
    try {
      expect(await waitFor(() => hook.events.filter((e) => e.recordingId === id).length === 3, 10_000)).toBe(true);
    } finally {
      await relay.stop();
    }
    expect(hook.events.filter((e) => e.recordingId === id)).toEqual([
      { recordingId: id, seq: 1, status: 'queued' },
      { recordingId: id, seq: 2, status: 'starting' },
      { recordingId: id, seq: 3, status: 'active' },
    ]);
  }, 30_000);

  it('a missing event holds the later ones back for the gap wait only, and they still go out in order', async () => {
    await worker?.close();
    startDelivery(1500);
    const id = 'rec_gapgapgapgapgap1';
    const ev = (seq: number) => ({ recordingId: id, seq, event: { type: 'recording.status', seq, recording: { id, status: `s${seq}` } } });
    // event 2 never arrives; 3 and 4 are queued first (out of order), then 1
    await queue.add('recording.status', ev(4), { jobId: `${id}-4`, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    await queue.add('recording.status', ev(3), { jobId: `${id}-3`, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    await queue.add('recording.status', ev(1), { jobId: `${id}-1`, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
    const t0 = Date.now();
    expect(await waitFor(() => hook.events.filter((e) => e.recordingId === id).length === 3, 15_000)).toBe(true);
    expect(hook.events.filter((e) => e.recordingId === id).map((e) => e.seq)).toEqual([1, 3, 4]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // 3 did wait for 2 …
  }, 30_000);

  it('waits for the event before it, within the gap wait only (pure)', () => {
    const o = { predecessorQueued: false, gapWaitMs: 1000 };
    expect(waitsForPredecessor({ ...o, seq: 1, predecessorSent: false, waitedMs: 0 })).toBe(false);
    expect(waitsForPredecessor({ ...o, seq: 3, predecessorSent: true, waitedMs: 0 })).toBe(false);
    expect(waitsForPredecessor({ ...o, seq: 3, predecessorSent: false, waitedMs: 999 })).toBe(true);
    expect(waitsForPredecessor({ ...o, seq: 3, predecessorSent: false, waitedMs: 1000 })).toBe(false);
    // a predecessor still queued goes first, however long this one has waited
    expect(waitsForPredecessor({ ...o, seq: 3, predecessorSent: false, predecessorQueued: true, waitedMs: 60_000 })).toBe(true);
  });
});
