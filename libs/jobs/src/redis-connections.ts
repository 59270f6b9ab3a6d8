import { Redis } from 'ioredis';

/** A Redis URL fit for a log line: the password (and a user name) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/, '$1***@');
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
 * Every Redis connection of a process, so shutdown can close them all before an embedded redis-server stops (otherwise
 * they reconnect forever and flood the log). BullMQ needs maxRetriesPerRequest: null.
 */
export class RedisConnections {
  private readonly all = new Set<Redis>();

  constructor(
    readonly url: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  create(): Redis {
    const r = new Redis(this.url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: redisRetryDelayMs });
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
