import { Redis } from 'ioredis';

/** A Redis URL fit for a log line: the password (and a user name, or a `password=` parameter) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** A webhook URL fit for a log line: its origin only (the path and query of a webhook URL are often its secret). */
export function webhookUrlForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '***';
  }
}

/**
 * Reconnect delays: 50 ms more per attempt, at most 1 s (ioredis' default goes to 2 s), so a Redis that is back (the
 * embedded one is restarted within about a second) is used again within a second.
 */
export const redisRetryDelayMs = (attempt: number): number => Math.min(attempt * 50, 1000);

/**
 * BullMQ queues and workers re-emit their connections' errors, and print each one's stack to stderr when nobody
 * listens (a burst of them per reconnect attempt while Redis is down). Logged here once per distinct message.
 */
export function logErrorsOnce(emitter: { on(event: 'error', listener: (e: Error) => void): unknown }, log: (message: string) => void, what: string): void {
  let last = '';
  emitter.on('error', (e: Error) => {
    if (e.message !== last) log(`${what}: ${e.message}`);
    last = e.message;
  });
}

/**
 * How long a command on a request-path connection may take before it fails (the request then answers 503): well under
 * the ~2 s a client should wait for an answer while Redis is stopped or cut off.
 */
export const REQUEST_COMMAND_TIMEOUT_MS = 1200;

const UNAVAILABLE_MESSAGES = ['Command timed out', 'Connection is closed.', 'Stream isn\'t writeable and enableOfflineQueue options is false'];
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error means Redis could not be reached (stopped, down, cut off, timed out) rather than that it answered
 * with an error: the first is a 503 for the client, the second a bug.
 */
export function isRedisUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.includes(e.message);
}

export interface RedisConnectionOptions {
  /**
   * A connection used while a client waits (HTTP requests): each command fails after REQUEST_COMMAND_TIMEOUT_MS, and
   * at once after one failed reconnect, instead of waiting for Redis to come back (BullMQ's workers and subscribers
   * keep maxRetriesPerRequest: null and wait).
   */
  request?: boolean;
}

/**
 * Every Redis connection of a process, so shutdown can close them all before an embedded redis-server stops (otherwise
 * they reconnect forever and flood the log). BullMQ workers need maxRetriesPerRequest: null; request paths must not
 * wait for the whole of an outage (`{request: true}`).
 */
export class RedisConnections {
  private readonly all = new Set<Redis>();

  constructor(
    readonly url: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  create(o: RedisConnectionOptions = {}): Redis {
    const bounded = o.request ? { maxRetriesPerRequest: 1, commandTimeout: REQUEST_COMMAND_TIMEOUT_MS } : { maxRetriesPerRequest: null };
    const r = new Redis(this.url, { ...bounded, enableReadyCheck: true, retryStrategy: redisRetryDelayMs });
    let lastError = '';
    r.on('error', (e: Error) => {
      if (e.message !== lastError) this.onError(`redis ${redactRedisUrl(this.url)}: ${e.message}`);
      lastError = e.message;
    });
    r.on('ready', () => (lastError = ''));
    this.all.add(r);
    return r;
  }

  closeAll(): void {
    for (const r of this.all) r.disconnect();
    this.all.clear();
  }
}
