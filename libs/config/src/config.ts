import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { decideCredentials } from './credentials';
import { decideSecrets } from './secrets';

/** Same rule as libs/core's NODE_ID_RE (config does not depend on core). */
const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * The only place that reads process.env. Validated once at start-up; defaults make `npm start` work with nothing set (on
 * loopback, with dev credentials: credentials.ts).
 */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface AppConfig {
  port: number;
  host: string;
  apiKey: string;
  /** The admin password (Basic auth) and nothing else: the keys below are separate (secrets.ts). */
  apiSecret: string;
  /** Signs and verifies room tokens (TOKEN_SECRET). */
  tokenSecret: string;
  /** Tokens of this key are still accepted (TOKEN_SECRET_PREVIOUS, during a rotation). */
  tokenSecretPrevious?: string;
  /** Signs webhook deliveries (WEBHOOK_SECRET). */
  webhookSecret: string;
  /** Signs the workers' hidden room tokens (WORKER_SECRET); the only key whose tokens may be hidden. */
  workerSecret: string;
  /** Which of TOKEN_SECRET, WEBHOOK_SECRET, WORKER_SECRET were not set and are derived from MCU_API_SECRET. */
  derivedSecrets: string[];
  devCredentials: boolean;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  publicIp?: string;
  iceServers: IceServer[];
  ffmpegPath?: string;
  /** FFPROBE_PATH: the ffprobe recordings are measured with; otherwise the one beside ffmpeg, otherwise PATH's. */
  ffprobePath?: string;
  redisUrl?: string;
  dataDir: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** Room worker threads: each room's media runs in one of them (MEDIA_WORKERS; default: one per core). */
  mediaWorkers: number;
  /** A publisher whose connection is gone (or who sent nothing) for this long is removed. */
  publisherTimeoutMs: number;
  /** A WHIP/WHEP session whose ICE/DTLS has not connected this long after its answer is closed (its port released). */
  sessionConnectTimeoutMs: number;
  recordingsDir: string;
  recordingConcurrency: number;
  recordingEmptyTimeoutMs: number;
  /** A recording is refused (507) when RECORDINGS_DIR has less free space than this (MiB). */
  minFreeDiskMb: number;
  /** A running recording stops (failed, its file kept) when RECORDINGS_DIR's free space falls below this (MiB; 0: never). */
  recordingStopFreeDiskMb: number;
  /** A recording whose worker shows no sign of life for this long is marked failed (its file is kept). */
  recordingHeartbeatTimeoutMs: number;
  /**
   * A recording that loses the room's stream (the room moved to another node, its media worker failed) finishes its
   * part and tries to reconnect for this long (backoff 0.5 s, 1 s, 2 s… up to 5 s) before it ends; 0: never.
   */
  recordingReconnectMs: number;
  /** Run BullMQ workers inside the server process (the embedded default when REDIS_URL is unset). */
  runWorker: boolean;
  /** Where a separate worker reaches the server's API (WHEP of the mix), when set; otherwise this host's PORT. */
  serverUrl?: string;
  webhookUrl?: string;
  webhookAttempts: number;
  webhookBackoffMs: number;
  /** An event waits at most this long for the one before it (a lost event never holds back the rest). */
  webhookGapWaitMs: number;
  /** coturn `static-auth-secret`: when set, clients get short-lived TURN REST credentials for the turn: URLs. */
  turnSecret?: string;
  turnTtlSeconds: number;
  /** A bearer token that may read /metrics (besides the admin credentials). */
  metricsToken?: string;
  /** SIGTERM: the bound within which the process exits, having finished its recordings. */
  shutdownTimeoutMs: number;
  /** development: human-readable log lines instead of JSON (needs pino-pretty). */
  prettyLogs: boolean;
  /** Livestreams (RTMP pushes) one worker runs at once. */
  livestreamConcurrency: number;
  /** Failed connection attempts in a row before a livestream is `failed`. */
  livestreamMaxAttempts: number;
  /** First retry delay of a livestream (doubles per failure, capped at 30 s). */
  livestreamRetryBackoffMs: number;
  /** HLS of a room stops this long after the last viewer request. */
  hlsIdleTimeoutMs: number;
  hlsSegmentSeconds: number;
  /** Segments in the live playlist (older ones are deleted). */
  hlsListSize: number;
  /** A second, smaller HLS rendition (640x360, ~400 kbps, transcoded) listed in a master playlist. */
  hlsLowRendition: boolean;
  /** RTMP_ALLOW_PRIVATE=1: livestream destinations on loopback, private or link-local hosts are allowed (a LAN receiver, tests). */
  rtmpAllowPrivate: boolean;
  /** Admission control (README "Admission control"): hard limits, and the CPU budget the cost model is checked against. */
  maxRooms: number;
  maxPublishersPerRoom: number;
  /** WHIP sessions over all rooms of this node (sessions being set up count). */
  maxPublishers: number;
  maxSubscribersPerRoom: number;
  /** Visible subscribers over all rooms of this node. */
  maxSubscribers: number;
  maxEventClientsPerRoom: number;
  /** Events sockets one identity may hold open in one room on this node. */
  maxEventClientsPerIdentity: number;
  /** The events gateway pings every socket this often; one that missed two pongs is terminated. */
  eventsHeartbeatMs: number;
  nodeCapacityCores: number;
  /** A room worker above this event-loop utilisation (or above maxWorkerLagMs while at least 0.8 busy) takes no new sessions. */
  maxWorkerElu: number;
  maxWorkerLagMs: number;
  /** A room nobody is in for this long is deleted; 0: never. */
  roomIdleMs: number;
  /** This node's id in the cluster registry (NODE_ID; default: hostname and a random suffix, new at every start). */
  nodeId: string;
  /** Where clients and other nodes reach this node (PUBLIC_URL; default: http://<HOST or 127.0.0.1>:<port> once it listens). */
  publicUrl?: string;
}

/** NODE_CAPACITY_CORES unless set: 85 % of the machine's cores, leaving some for the OS, Redis and the HTTP side. */
export const DEFAULT_CAPACITY_SHARE = 0.85;
export const defaultCapacityCores = (cores: number): number => Math.round(cores * DEFAULT_CAPACITY_SHARE * 100) / 100;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd(), cores = availableParallelism()): AppConfig {
  const problems: string[] = [];
  const str = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const port = (k: string, def?: number, min = 0): number | undefined => {
    const v = str(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > 65535) {
      problems.push(`${k} must be an integer port from ${min} to 65535 (got "${v}")`);
      return def;
    }
    return n;
  };

  const devRaw = str('MCU_DEV');
  if (devRaw !== undefined && !['1', 'true', '0', 'false'].includes(devRaw)) problems.push('MCU_DEV must be 1 (or true) to allow the dev credentials off loopback, or 0');
  const credentials = decideCredentials({
    apiKey: str('MCU_API_KEY'),
    apiSecret: str('MCU_API_SECRET'),
    turnSecret: str('TURN_SECRET'),
    redisUrl: str('REDIS_URL'),
    host: str('HOST'),
    dev: devRaw === '1' || devRaw === 'true',
    production: str('NODE_ENV') === 'production',
  });
  problems.push(...credentials.problems);
  const { devCredentials } = credentials;
  const secrets = decideSecrets({
    apiSecret: credentials.apiSecret,
    tokenSecret: str('TOKEN_SECRET'),
    tokenSecretPrevious: str('TOKEN_SECRET_PREVIOUS'),
    webhookSecret: str('WEBHOOK_SECRET'),
    workerSecret: str('WORKER_SECRET'),
    webhookUrl: str('WEBHOOK_URL'),
    devCredentials,
    devAllowed: credentials.devAllowed,
  });
  problems.push(...secrets.problems);

  const rtcMinPort = port('RTC_MIN_PORT', undefined, 1024);
  const rtcMaxPort = port('RTC_MAX_PORT', undefined, 1024);
  if ((rtcMinPort === undefined) !== (rtcMaxPort === undefined)) problems.push('set both RTC_MIN_PORT and RTC_MAX_PORT, or neither');
  if (rtcMinPort !== undefined && rtcMaxPort !== undefined && rtcMaxPort < rtcMinPort) {
    problems.push('RTC_MAX_PORT must be >= RTC_MIN_PORT');
  }

  const publicIp = str('PUBLIC_IP');
  if (publicIp !== undefined && isIP(publicIp) === 0) problems.push(`PUBLIC_IP must be an IP address (got "${publicIp}")`);

  let iceServers: IceServer[] = [];
  const ice = str('ICE_SERVERS');
  if (ice !== undefined) {
    try {
      iceServers = parseIceServers(ice);
    } catch (e) {
      problems.push(`ICE_SERVERS: ${(e as Error).message}`);
    }
  }

  const redisUrl = str('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://');
  // read by libs/jobs (queues.ts) for every key, channel and queue; checked here so a bad one stops the start
  const keyPrefix = str('REDIS_KEY_PREFIX');
  if (keyPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(keyPrefix)) problems.push('REDIS_KEY_PREFIX must be 1-32 letters, digits, "_", "." or "-", starting with a letter or digit');

  const logLevel = (str('LOG_LEVEL') ?? 'log') as AppConfig['logLevel'];
  if (!['error', 'warn', 'log', 'debug', 'verbose'].includes(logLevel)) {
    problems.push('LOG_LEVEL must be one of error, warn, log, debug, verbose');
  }

  const timeoutS = str('PUBLISHER_TIMEOUT_SECONDS');
  const publisherTimeoutMs = timeoutS === undefined ? 5000 : Number(timeoutS) * 1000;
  if (!(publisherTimeoutMs >= 1000 && publisherTimeoutMs <= 60000)) problems.push('PUBLISHER_TIMEOUT_SECONDS must be from 1 to 60');

  const num = (k: string, def: number, min: number, max: number): number => {
    const v = str(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`${k} must be a number from ${min} to ${max} (got "${v}")`);
      return def;
    }
    return n;
  };
  const int = (k: string, def: number, min: number, max: number): number => {
    const v = str(k);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${k} must be a whole number from ${min} to ${max} (got "${v}")`);
      return def;
    }
    return Number(v);
  };
  const maxRooms = int('MAX_ROOMS', 100, 1, 100_000);
  // validated here only: every thread's launchChild reads it itself (libs/media/src/ffmpeg/memory-limit.ts)
  int('FFMPEG_MAX_MEMORY_MB', 1024, 0, 1_048_576);
  const maxPublishersPerRoom = int('MAX_PUBLISHERS_PER_ROOM', 25, 1, 1000);
  const maxPublishers = int('MAX_PUBLISHERS', 500, 1, 100_000);
  const sessionConnectTimeoutMs = num('SESSION_CONNECT_TIMEOUT_SECONDS', 20, 1, 600) * 1000;
  const maxSubscribersPerRoom = int('MAX_SUBSCRIBERS_PER_ROOM', 200, 1, 100_000);
  const maxSubscribers = int('MAX_SUBSCRIBERS', 1000, 1, 1_000_000);
  const maxEventClientsPerRoom = int('MAX_EVENT_CLIENTS_PER_ROOM', 500, 1, 100_000);
  const maxEventClientsPerIdentity = int('MAX_EVENT_CLIENTS_PER_IDENTITY', 5, 1, 10_000);
  const eventsHeartbeatMs = num('EVENTS_HEARTBEAT_SECONDS', 15, 1, 300) * 1000;
  const nodeCapacityCores = num('NODE_CAPACITY_CORES', defaultCapacityCores(cores), 0.01, 4096);
  const roomIdleMs = int('ROOM_IDLE_SECONDS', 300, 0, 7 * 86400) * 1000;
  const maxWorkerElu = num('MAX_WORKER_ELU', 0.85, 0.01, 1);
  const maxWorkerLagMs = int('MAX_WORKER_LAG_MS', 200, 10, 60_000);
  const recordingConcurrency = num('RECORDING_CONCURRENCY', 2, 0, 64);
  const recordingEmptyTimeoutMs = num('RECORDING_EMPTY_TIMEOUT_SECONDS', 60, 1, 86400) * 1000;
  const recordingHeartbeatTimeoutMs = num('RECORDING_HEARTBEAT_TIMEOUT_SECONDS', 30, 2, 3600) * 1000;
  const recordingReconnectMs = num('RECORDING_RECONNECT_SECONDS', 30, 0, 3600) * 1000;
  const minFreeDiskMb = num('MIN_FREE_DISK_MB', 500, 0, 1e9);
  const recordingStopFreeDiskMb = num('RECORDING_STOP_FREE_DISK_MB', Math.min(100, minFreeDiskMb), 0, 1e9);
  if (recordingStopFreeDiskMb > minFreeDiskMb) problems.push('RECORDING_STOP_FREE_DISK_MB must not be above MIN_FREE_DISK_MB (a recording would stop as soon as it starts)');
  const webhookAttempts = num('WEBHOOK_ATTEMPTS', 15, 1, 100);
  const webhookBackoffMs = num('WEBHOOK_BACKOFF_MS', 1000, 10, 600000);
  const webhookGapWaitMs = num('WEBHOOK_GAP_WAIT_SECONDS', 30, 0, 86400) * 1000;
  const livestreamConcurrency = num('LIVESTREAM_CONCURRENCY', 4, 0, 64);
  const livestreamMaxAttempts = num('LIVESTREAM_MAX_ATTEMPTS', 10, 1, 1000);
  const livestreamRetryBackoffMs = num('LIVESTREAM_RETRY_BACKOFF_MS', 1000, 10, 600000);
  const hlsIdleTimeoutMs = num('HLS_IDLE_TIMEOUT_SECONDS', 30, 1, 86400) * 1000;
  const hlsSegmentSeconds = num('HLS_SEGMENT_SECONDS', 1, 0.5, 10);
  const hlsListSize = num('HLS_LIST_SIZE', 6, 2, 100);
  const hlsLowRaw = str('HLS_LOW_RENDITION');
  if (hlsLowRaw !== undefined && !['true', 'false'].includes(hlsLowRaw)) problems.push('HLS_LOW_RENDITION must be true or false');
  const rtmpPrivateRaw = str('RTMP_ALLOW_PRIVATE');
  if (rtmpPrivateRaw !== undefined && !['1', 'true', '0', 'false'].includes(rtmpPrivateRaw)) problems.push('RTMP_ALLOW_PRIVATE must be 1 (or true) or 0 (or false)');
  const webhookUrl = str('WEBHOOK_URL');
  if (webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(webhookUrl)) problems.push('WEBHOOK_URL must be an http:// or https:// URL');
  const runWorkerRaw = str('RUN_WORKER');
  if (runWorkerRaw !== undefined && !['true', 'false'].includes(runWorkerRaw)) problems.push('RUN_WORKER must be true or false');
  const nodeIdRaw = str('NODE_ID');
  if (nodeIdRaw !== undefined && !NODE_ID_RE.test(nodeIdRaw)) problems.push('NODE_ID must be 1–63 letters, digits, ".", "_" or "-" (starting with a letter or digit)');
  const publicUrl = str('PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(publicUrl)) problems.push('PUBLIC_URL must be an http:// or https:// URL (where clients reach this node)');
  const serverUrl = str('MCU_SERVER_URL');
  if (serverUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(serverUrl)) problems.push('MCU_SERVER_URL must be an http:// or https:// URL');

  const turnSecret = str('TURN_SECRET');
  if (turnSecret !== undefined && !iceServers.some((srv) => srv.urls.some((u) => /^turns?:/.test(u)))) {
    problems.push('TURN_SECRET is set but ICE_SERVERS has no turn: or turns: URL to use it with');
  }
  const turnTtlSeconds = num('TURN_TTL_SECONDS', 86400, 60, 7 * 86400);
  const metricsToken = str('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
  const shutdownTimeoutMs = num('SHUTDOWN_TIMEOUT_SECONDS', 25, 1, 3600) * 1000;
  // pretty in development (dev credentials), JSON lines otherwise
  const logFormat = str('LOG_FORMAT') ?? (devCredentials ? 'pretty' : 'json');
  if (!['json', 'pretty'].includes(logFormat)) problems.push('LOG_FORMAT must be json or pretty');

  if (problems.length) throw new ConfigError(problems);
  const listenPort = port('PORT', 3000) ?? 3000;
  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? 'data');
  return {
    port: listenPort,
    host: credentials.host,
    apiKey: credentials.apiKey,
    apiSecret: credentials.apiSecret,
    tokenSecret: secrets.tokenSecret,
    ...(secrets.tokenSecretPrevious ? { tokenSecretPrevious: secrets.tokenSecretPrevious } : {}),
    webhookSecret: secrets.webhookSecret,
    workerSecret: secrets.workerSecret,
    derivedSecrets: secrets.derivedSecrets,
    devCredentials,
    ...(rtcMinPort !== undefined ? { rtcMinPort, rtcMaxPort } : {}),
    ...(publicIp ? { publicIp } : {}),
    iceServers,
    ...(str('FFMPEG_PATH') ? { ffmpegPath: str('FFMPEG_PATH') } : {}),
    ...(str('FFPROBE_PATH') ? { ffprobePath: str('FFPROBE_PATH') } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    dataDir,
    logLevel,
    publisherTimeoutMs,
    sessionConnectTimeoutMs,
    mediaWorkers: Math.round(num('MEDIA_WORKERS', Math.max(1, availableParallelism()), 1, 256)),
    recordingsDir: path.resolve(cwd, str('RECORDINGS_DIR') ?? path.join(dataDir, 'recordings')),
    recordingConcurrency,
    recordingEmptyTimeoutMs,
    recordingHeartbeatTimeoutMs,
    recordingReconnectMs,
    minFreeDiskMb,
    recordingStopFreeDiskMb,
    runWorker: runWorkerRaw === undefined ? redisUrl === undefined : runWorkerRaw === 'true',
    ...(serverUrl ? { serverUrl: serverUrl.replace(/\/$/, '') } : {}),
    ...(webhookUrl ? { webhookUrl } : {}),
    webhookAttempts,
    webhookBackoffMs,
    webhookGapWaitMs,
    ...(turnSecret ? { turnSecret } : {}),
    turnTtlSeconds,
    ...(metricsToken ? { metricsToken } : {}),
    shutdownTimeoutMs,
    prettyLogs: logFormat === 'pretty',
    livestreamConcurrency,
    livestreamMaxAttempts,
    livestreamRetryBackoffMs,
    hlsIdleTimeoutMs,
    hlsSegmentSeconds,
    hlsListSize: Math.round(hlsListSize),
    hlsLowRendition: hlsLowRaw === 'true',
    rtmpAllowPrivate: rtmpPrivateRaw === '1' || rtmpPrivateRaw === 'true',
    maxRooms,
    maxPublishersPerRoom,
    maxPublishers,
    maxSubscribersPerRoom,
    maxSubscribers,
    maxEventClientsPerRoom,
    maxEventClientsPerIdentity,
    eventsHeartbeatMs,
    nodeCapacityCores,
    maxWorkerElu,
    maxWorkerLagMs,
    roomIdleMs,
    nodeId: nodeIdRaw ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'node'}-${randomBytes(3).toString('hex')}`,
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
  };
}

/**
 * ICE_SERVERS: either JSON (`[{"urls":"turn:turn.example.com:3478","username":"u","credential":"p"}]`) or a comma-separated
 * list of URLs (`stun:stun.example.com:3478,turn:user:pass@turn.example.com:3478`).
 */
export function parseIceServers(value: string): IceServer[] {
  const checkUrl = (u: string): string => {
    if (!/^(stun|stuns|turn|turns):[^\s]+$/.test(u)) throw new Error(`"${u}" is not a stun:, stuns:, turn: or turns: URL`);
    return u;
  };
  if (value.startsWith('[')) {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed)) throw new Error('must be a JSON array');
    return parsed.map((s: unknown) => {
      const o = s as { urls?: unknown; username?: unknown; credential?: unknown };
      const urls = typeof o.urls === 'string' ? [o.urls] : Array.isArray(o.urls) ? o.urls : undefined;
      if (!urls || urls.length === 0 || !urls.every((u) => typeof u === 'string')) throw new Error('each server needs urls');
      return {
        urls: (urls as string[]).map(checkUrl),
        ...(typeof o.username === 'string' ? { username: o.username } : {}),
        ...(typeof o.credential === 'string' ? { credential: o.credential } : {}),
      };
    });
  }
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      const m = /^(turns?):([^:@]+):([^@]+)@(.+)$/.exec(raw);
      if (m) return { urls: [checkUrl(`${m[1]}:${m[4]}`)], username: decodeURIComponent(m[2]), credential: decodeURIComponent(m[3]) };
      return { urls: [checkUrl(raw)] };
    });
}
