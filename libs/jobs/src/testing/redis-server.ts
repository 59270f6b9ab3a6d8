/** A private redis-server for specs (never the one on 6379): no persistence, loopback, killed by `stop()`. Test-only. */
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../embedded-redis';

export interface TestRedis {
  url: string;
  /** A new connection (closed by stop). */
  connect(): Redis;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const conns: Redis[] = [];
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const ok = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
    if (ok) break;
    if (i > 50) throw new Error(`redis-server on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    connect() {
      const r = new Redis(url, { maxRetriesPerRequest: null });
      conns.push(r);
      return r;
    },
    async stop() {
      for (const c of conns) c.disconnect();
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await gone;
      }
    },
  };
}
