import { Redis } from 'ioredis';

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
    const r = new Redis(this.url, { maxRetriesPerRequest: null, enableReadyCheck: true });
    let lastError = '';
    r.on('error', (e: Error) => {
      if (e.message !== lastError) this.onError(`redis ${this.url}: ${e.message}`);
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
