import { Queue, Worker } from 'bullmq';
import type { AppConfig } from '@app/config';
import { ClusterStore } from '../cluster-store';
import { livestreamView } from '../livestream';
import { LivestreamStore } from '../livestream-store';
import { BULL_PREFIX, type LivestreamJobData, QUEUE_LIVESTREAMS, QUEUE_RECORDINGS, QUEUE_WEBHOOKS, type RecordingJobData, type WebhookJobData } from '../queues';
import { recordingView } from '../recording';
import { RecordingStore } from '../recording-store';
import { logErrorsOnce, RedisConnections, webhookUrlForLog } from '../redis-connections';
import { RoomEventPublisher } from '../room-event-bus';
import { startWebhookRelay } from '../webhook-outbox';
import type { Logger, MixSource } from '@app/media';
import { livestreamProcessor } from './livestream/livestream.processor';
import { recordingProcessor } from './recording/recording.processor';
import { webhookProcessor } from './webhooks/webhook.processor';

/** BullMQ's finished-job counts (read by the server's /metrics): one-minute points for a day. */
const JOB_METRICS = { maxDataPoints: 24 * 60 };

export interface WorkerRuntime {
  close(): Promise<void>;
}

/**
 * The BullMQ workers (recording, webhook delivery). Runs inside the server (embedded default) or in `apps/worker` on
 * any host that reaches Redis and the server. Thin: the processors do the work.
 */
export function startWorkers(o: {
  config: AppConfig;
  redisUrl: string;
  ffmpegPath: string;
  /** The ffprobe recordings are measured and verified with (FfmpegInfo.ffprobe). */
  ffprobePath: string;
  serverUrl: () => string;
  /** Other alive nodes' base URLs, tried when serverUrl() is down or answers 5xx (see MixSourceDeps.serverUrls). */
  serverUrls?: () => Promise<string[]>;
  logger?: Logger;
  localTap?: (room: string, video: boolean) => Promise<MixSource | undefined>;
}): WorkerRuntime {
  const { config, logger } = o;
  const connections = new RedisConnections(o.redisUrl, (m) => logger?.warn(m));
  const redis = connections.create();
  const webhookQueue = config.webhookUrl ? new Queue<WebhookJobData>(QUEUE_WEBHOOKS, { connection: connections.create(), prefix: BULL_PREFIX }) : undefined;
  // status changes go to the webhook outbox (written with them) and, as recordingStatusChanged, to the rooms' event streams
  const events = new RoomEventPublisher(redis, (m) => logger?.warn(m));
  const store = new RecordingStore(redis, (r) => void events.publish(r.room, { type: 'recordingStatusChanged', recording: recordingView(r) }), {
    webhooks: Boolean(config.webhookUrl),
    warn: (m) => logger?.warn(m),
  });
  // moves the outbox's events (this worker's and the server's) to the webhook queue
  const relay = webhookQueue
    ? startWebhookRelay(connections.create(), webhookQueue, { attempts: config.webhookAttempts, backoffMs: config.webhookBackoffMs, warn: (m) => logger?.warn(m) })
    : undefined;
  // the cluster's live nodes (the registry in Redis): where an output goes when the node it was told about is gone
  const registry = new ClusterStore(redis);
  // (a record exists only while its node heartbeats: Redis expires it, so no clock of another host is compared here)
  const serverUrls = o.serverUrls ?? (async () => (await registry.nodes()).sort((a, b) => Number(a.draining) - Number(b.draining)).map((n) => n.url));
  const workers: Worker[] = [];
  const active = new Set<string>();
  if (config.recordingConcurrency > 0) {
    const w = new Worker<RecordingJobData>(
      QUEUE_RECORDINGS,
      recordingProcessor({
        store,
        ffmpegPath: o.ffmpegPath,
        ffprobePath: o.ffprobePath,
        recordingsDir: config.recordingsDir,
        reconnectMs: config.recordingReconnectMs,
        stopFreeDiskMb: config.recordingStopFreeDiskMb,
        serverUrl: o.serverUrl,
        serverUrls,
        apiSecret: config.workerSecret,
        logger,
        active,
        localTap: o.localTap,
        // BullMQ's lock of a job is `<queue key>:<job id>:lock`, holding the token it gave the processor
        jobLockHeld: async (job, token) => (await redis.get(`${job.queueQualifiedName}:${job.id}:lock`)) === token,
      }),
      // A dead worker's job is noticed within ~20 s and handed to another worker, which marks it failed (file kept).
      { connection: connections.create(), prefix: BULL_PREFIX, concurrency: config.recordingConcurrency, lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 1, metrics: JOB_METRICS },
    );
    w.on('failed', (job, err) => logger?.warn(`recording job ${job?.id} failed: ${err.message}`, { job: job?.id, recording: job?.data.recordingId }));
    workers.push(w);
  }
  // Livestreams: a job whose worker died is stalled and handed to another worker (or this server after a restart),
  // which resumes the push, as many times as it takes; a worker shutting down hands its jobs back to the queue.
  const livestreamShutdown = { value: false };
  const livestreamsActive = new Set<string>();
  if (config.livestreamConcurrency > 0) {
    const lsStore = new LivestreamStore(connections.create(), (l) => void events.publish(l.room, { type: 'livestreamStatusChanged', livestream: { ...livestreamView(l) } }), {
      warn: (m) => logger?.warn(m),
    });
    const w = new Worker<LivestreamJobData>(
      QUEUE_LIVESTREAMS,
      livestreamProcessor({
        store: lsStore,
        ffmpegPath: o.ffmpegPath,
        serverUrl: o.serverUrl,
        serverUrls,
        apiSecret: config.workerSecret,
        logger,
        maxAttempts: config.livestreamMaxAttempts,
        backoffMs: config.livestreamRetryBackoffMs,
        localTap: o.localTap,
        shuttingDown: livestreamShutdown,
        active: livestreamsActive,
      }),
      { connection: connections.create(), prefix: BULL_PREFIX, concurrency: config.livestreamConcurrency, lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 1_000_000, metrics: JOB_METRICS },
    );
    w.on('failed', (job, err) => logger?.warn(`livestream job ${job?.id} failed: ${err.message}`, { job: job?.id, livestream: job?.data.livestreamId }));
    workers.push(w);
  }
  if (config.webhookUrl) {
    const w = new Worker<WebhookJobData>(QUEUE_WEBHOOKS, webhookProcessor({ redis, url: config.webhookUrl, secret: config.webhookSecret, gapWaitMs: config.webhookGapWaitMs, queue: webhookQueue, logger }), {
      connection: connections.create(),
      prefix: BULL_PREFIX,
      concurrency: 4,
      metrics: JOB_METRICS,
    });
    w.on('failed', (job, err) => logger?.debug?.(`webhook job ${job?.id} attempt ${job?.attemptsMade}: ${err.message}`, { job: job?.id }));
    workers.push(w);
  }
  // a worker's errors (Redis gone; a job whose lock was lost cannot be moved to completed) are logged, never thrown
  for (const w of workers) logErrorsOnce(w, (m) => logger?.warn(m), `worker ${w.name}`);
  logger?.log(`workers: recording concurrency ${config.recordingConcurrency}, livestream concurrency ${config.livestreamConcurrency}${config.webhookUrl ? `, webhooks to ${webhookUrlForLog(config.webhookUrl)}` : ''}`);
  return {
    async close() {
      // Finish the recordings in progress (their files are complete), then stop taking jobs.
      for (const id of active) await store.update(id, { stopRequested: 'the worker is shutting down' }).catch(() => undefined);
      livestreamShutdown.value = true;
      const deadline = Date.now() + 15_000;
      while ((active.size || livestreamsActive.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await Promise.allSettled(workers.map((w) => w.close(true)));
      await relay?.stop();
      await webhookQueue?.close();
      connections.closeAll();
    },
  };
}
