import { isIP } from 'node:net';
import * as path from 'node:path';

/** The only place that reads process.env. Validated once at start-up; defaults make `npm start` work with nothing set. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface AppConfig {
  port: number;
  host: string;
  apiKey: string;
  apiSecret: string;
  devCredentials: boolean;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  publicIp?: string;
  iceServers: IceServer[];
  ffmpegPath?: string;
  redisUrl?: string;
  dataDir: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** A publisher whose connection is gone (or who sent nothing) for this long is removed. */
  publisherTimeoutMs: number;
  recordingsDir: string;
  recordingConcurrency: number;
  recordingEmptyTimeoutMs: number;
  /** A recording whose worker shows no sign of life for this long is marked failed (its file is kept). */
  recordingHeartbeatTimeoutMs: number;
  /** Run BullMQ workers inside the server process (the embedded default when REDIS_URL is unset). */
  runWorker: boolean;
  /** Where a separate worker reaches the server's API (WHEP of the mix), when set; otherwise this host's PORT. */
  serverUrl?: string;
  webhookUrl?: string;
  webhookAttempts: number;
  webhookBackoffMs: number;
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
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const DEV_API_KEY = 'devkey';
export const DEV_API_SECRET = 'devsecret-change-me';

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
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

  const apiKey = str('MCU_API_KEY');
  const apiSecret = str('MCU_API_SECRET');
  if ((apiKey === undefined) !== (apiSecret === undefined)) problems.push('set both MCU_API_KEY and MCU_API_SECRET, or neither');
  if (apiSecret !== undefined && apiSecret.length < 16) problems.push('MCU_API_SECRET must be at least 16 characters');
  const devCredentials = apiKey === undefined || apiSecret === undefined;

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
  const recordingConcurrency = num('RECORDING_CONCURRENCY', 2, 0, 64);
  const recordingEmptyTimeoutMs = num('RECORDING_EMPTY_TIMEOUT_SECONDS', 60, 1, 86400) * 1000;
  const recordingHeartbeatTimeoutMs = num('RECORDING_HEARTBEAT_TIMEOUT_SECONDS', 30, 2, 3600) * 1000;
  const webhookAttempts = num('WEBHOOK_ATTEMPTS', 15, 1, 100);
  const webhookBackoffMs = num('WEBHOOK_BACKOFF_MS', 1000, 10, 600000);
  const livestreamConcurrency = num('LIVESTREAM_CONCURRENCY', 4, 0, 64);
  const livestreamMaxAttempts = num('LIVESTREAM_MAX_ATTEMPTS', 10, 1, 1000);
  const livestreamRetryBackoffMs = num('LIVESTREAM_RETRY_BACKOFF_MS', 1000, 10, 600000);
  const hlsIdleTimeoutMs = num('HLS_IDLE_TIMEOUT_SECONDS', 30, 1, 86400) * 1000;
  const hlsSegmentSeconds = num('HLS_SEGMENT_SECONDS', 1, 0.5, 10);
  const hlsListSize = num('HLS_LIST_SIZE', 6, 2, 100);
  const hlsLowRaw = str('HLS_LOW_RENDITION');
  if (hlsLowRaw !== undefined && !['true', 'false'].includes(hlsLowRaw)) problems.push('HLS_LOW_RENDITION must be true or false');
  const webhookUrl = str('WEBHOOK_URL');
  if (webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(webhookUrl)) problems.push('WEBHOOK_URL must be an http:// or https:// URL');
  const runWorkerRaw = str('RUN_WORKER');
  if (runWorkerRaw !== undefined && !['true', 'false'].includes(runWorkerRaw)) problems.push('RUN_WORKER must be true or false');
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
    host: str('HOST') ?? '0.0.0.0',
    apiKey: apiKey ?? DEV_API_KEY,
    apiSecret: apiSecret ?? DEV_API_SECRET,
    devCredentials,
    ...(rtcMinPort !== undefined ? { rtcMinPort, rtcMaxPort } : {}),
    ...(publicIp ? { publicIp } : {}),
    iceServers,
    ...(str('FFMPEG_PATH') ? { ffmpegPath: str('FFMPEG_PATH') } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    dataDir,
    logLevel,
    publisherTimeoutMs,
    recordingsDir: path.resolve(cwd, str('RECORDINGS_DIR') ?? path.join(dataDir, 'recordings')),
    recordingConcurrency,
    recordingEmptyTimeoutMs,
    recordingHeartbeatTimeoutMs,
    runWorker: runWorkerRaw === undefined ? redisUrl === undefined : runWorkerRaw === 'true',
    ...(serverUrl ? { serverUrl: serverUrl.replace(/\/$/, '') } : {}),
    ...(webhookUrl ? { webhookUrl } : {}),
    webhookAttempts,
    webhookBackoffMs,
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
