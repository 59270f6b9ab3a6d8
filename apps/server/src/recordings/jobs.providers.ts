import * as path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '@app/config';
import {
  type EmbeddedRedis,
  type LivestreamJobData,
  BULL_PREFIX,
  LivestreamStore,
  livestreamView,
  logErrorsOnce,
  QUEUE_LIVESTREAMS,
  QUEUE_RECORDINGS,
  QUEUE_WEBHOOKS,
  RecordingStore,
  recordingView,
  RedisConnections,
  RoomEventPublisher,
  RoomEventSubscriber,
  startEmbeddedRedis,
  startWorkers,
  type RecordingJobData,
  type WebhookJobData,
  type WorkerRuntime,
} from '@app/jobs';
import { type FfmpegInfo, objectLogger, RoomManager } from '@app/media';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG, FFMPEG_INFO } from '../tokens';

export const REDIS_INFO = Symbol('REDIS_INFO');
export const REDIS = Symbol('REDIS');
export const RECORDINGS_QUEUE = Symbol('RECORDINGS_QUEUE');
export const ROOM_EVENT_PUBLISHER = Symbol('ROOM_EVENT_PUBLISHER');
/** The webhook delivery queue, or null without WEBHOOK_URL. */
export const WEBHOOKS_QUEUE = Symbol('WEBHOOKS_QUEUE');
export const ROOM_EVENT_SUBSCRIBER = Symbol('ROOM_EVENT_SUBSCRIBER');
export const LIVESTREAMS_QUEUE = Symbol('LIVESTREAMS_QUEUE');

/**
 * A BullMQ queue of this server whose errors (Redis unreachable) are logged once each, not printed as stacks. Jobs are
 * added while a client waits: its connection is a request-path one (a 503 within about a second during an outage).
 */
function queue<T>(name: string, info: RedisInfo): Queue<T> {
  const q = new Queue<T>(name, { connection: info.connections.create({ request: true }), prefix: BULL_PREFIX });
  const logger = new Logger('Redis');
  logErrorsOnce(q, (m) => logger.warn(m), `queue ${name}`);
  return q;
}

export interface RedisInfo {
  url: string;
  embedded?: EmbeddedRedis;
  connections: RedisConnections;
}

export const jobsProviders: Provider[] = [
  {
    provide: REDIS_INFO,
    inject: [APP_CONFIG],
    useFactory: async (config: AppConfig): Promise<RedisInfo> => {
      const logger = new Logger('Redis');
      const onError = (m: string) => logger.warn(m);
      if (config.redisUrl) return { url: config.redisUrl, connections: new RedisConnections(config.redisUrl, onError) };
      const dir = path.join(config.dataDir, 'redis');
      const embedded = await startEmbeddedRedis(dir, { logger: { log: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) } });
      logger.log(`embedded redis-server on ${embedded.address} (pid ${embedded.pid}, data in ${dir}, AOF on, password set, restarted if it dies)`);
      return { url: embedded.url, embedded, connections: new RedisConnections(embedded.url, onError) };
    },
  },
  // used while clients wait (stores, event publishing, health): commands fail within about a second during an outage
  { provide: REDIS, inject: [REDIS_INFO], useFactory: (info: RedisInfo) => info.connections.create({ request: true }) },
  {
    provide: RECORDINGS_QUEUE,
    inject: [REDIS_INFO],
    useFactory: (info: RedisInfo) => queue<RecordingJobData>(QUEUE_RECORDINGS, info),
  },
  {
    provide: ROOM_EVENT_PUBLISHER,
    inject: [REDIS],
    useFactory: (redis: Redis) => {
      const logger = new Logger('Events');
      return new RoomEventPublisher(redis, (m) => logger.warn(m));
    },
  },
  // its own connection: a Redis connection in subscriber mode can do nothing else
  { provide: ROOM_EVENT_SUBSCRIBER, inject: [REDIS_INFO], useFactory: (info: RedisInfo) => new RoomEventSubscriber(info.connections.create()) },
  {
    provide: WEBHOOKS_QUEUE,
    inject: [REDIS_INFO, APP_CONFIG],
    useFactory: (info: RedisInfo, config: AppConfig) => (config.webhookUrl ? queue<WebhookJobData>(QUEUE_WEBHOOKS, info) : null),
  },
  {
    provide: RecordingStore,
    inject: [REDIS, APP_CONFIG, ROOM_EVENT_PUBLISHER],
    // webhook events are written to the outbox with each status (a worker's relay queues them)
    useFactory: (redis: Redis, config: AppConfig, events: RoomEventPublisher) =>
      new RecordingStore(redis, (r) => void events.publish(r.room, { type: 'recordingStatusChanged', recording: recordingView(r) }), {
        webhooks: Boolean(config.webhookUrl),
        warn: (m) => new Logger('Recordings').warn(m),
      }),
  },
  {
    provide: LIVESTREAMS_QUEUE,
    inject: [REDIS_INFO],
    useFactory: (info: RedisInfo) => queue<LivestreamJobData>(QUEUE_LIVESTREAMS, info),
  },
  // status changes made here (create, stop) go to the room's event stream; the worker publishes its own the same way
  {
    provide: LivestreamStore,
    inject: [REDIS, ROOM_EVENT_PUBLISHER],
    useFactory: (redis: Redis, events: RoomEventPublisher) =>
      new LivestreamStore(redis, (l) => void events.publish(l.room, { type: 'livestreamStatusChanged', livestream: { ...livestreamView(l) } }), {
        warn: (m) => new Logger('Livestreams').warn(m),
      }),
  },
];

/** Starts the embedded worker (when configured) and shuts queues, workers and the embedded Redis down in order. */
@Injectable()
export class JobsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: WorkerRuntime;
  private readonly logger = new Logger('Workers');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FFMPEG_INFO) private readonly ffmpeg: FfmpegInfo,
    @Inject(REDIS_INFO) private readonly redisInfo: RedisInfo,
    @Inject(RECORDINGS_QUEUE) private readonly queue: Queue,
    @Inject(WEBHOOKS_QUEUE) private readonly webhooks: Queue | null,
    private readonly http: HttpAdapterHost,
    private readonly rooms: RoomManager,
  ) {}

  /** The URL the embedded worker uses to reach this server (its port is known only once it listens). */
  serverUrl(): string {
    if (this.config.serverUrl) return this.config.serverUrl;
    const addr = this.http.httpAdapter?.getHttpServer()?.address() as AddressInfo | null;
    return `http://127.0.0.1:${addr?.port ?? this.config.port}`;
  }

  onApplicationBootstrap(): void {
    if (!this.config.runWorker) return;
    this.worker = startWorkers({
      config: this.config,
      redisUrl: this.redisInfo.url,
      ffmpegPath: this.ffmpeg.path,
      ffprobePath: this.ffmpeg.ffprobe.path,
      serverUrl: () => this.serverUrl(),
      // in this process, recorders tap the room's mix directly instead of subscribing over WebRTC
      localTap: async (room, video) => this.rooms.find(room)?.tap({ video }),
      logger: objectLogger(this.logger),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue.close().catch(() => undefined);
    await this.webhooks?.close().catch(() => undefined);
    this.redisInfo.connections.closeAll();
    await this.redisInfo.embedded?.stop();
  }
}
