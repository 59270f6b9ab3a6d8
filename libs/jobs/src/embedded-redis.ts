import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import * as path from 'node:path';
import { claimRedisDir, findRedisOnDir, isAlive, readPid, REDIS_PIDFILE } from './redis-dir-claim';
import { REDIS_CONFIG_ENV } from './redis-guard';

/**
 * A private redis-server for the embedded default (no REDIS_URL): loopback only, a password, a free port, data under
 * `dir` with AOF on. Supervised: when it dies it is started again on the same directory, port and password (backoff,
 * logged), so the server's ioredis clients (queues, workers, the event subscriber) reconnect by themselves. Never
 * orphaned: it runs under a guard process that stops it when this process ends, however it ends; and never two on one
 * directory (redis-dir-claim.ts).
 */
export interface EmbeddedRedis {
  /** redis://:password@127.0.0.1:port (secret: log `address` instead). */
  readonly url: string;
  /** 127.0.0.1:port */
  readonly address: string;
  /** The running redis-server's pid (changes on restart; undefined while it is down). */
  readonly pid: number | undefined;
  /** How many times it was restarted after dying. */
  readonly restarts: number;
  stop(): Promise<void>;
}

export interface EmbeddedRedisLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EmbeddedRedisOptions {
  binary?: string;
  logger?: EmbeddedRedisLogger;
}

/** A redis-server that ran this long before it died is restarted after the shortest delay again. */
export const STABLE_MS = 30_000;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Delay before restart number `failures` (0 = the first after a stable run): 100 ms doubling, at most 5 s. */
export const restartDelayMs = (failures: number): number => Math.min(100 * 2 ** Math.max(0, failures), 5000);

/** A free TCP port on loopback (for children that must be told their port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Redis configuration text (read by redis-server from its stdin): values quoted as redis' config parser reads them. */
export function redisConfigText(o: { port: number; dir: string; password: string }): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    `port ${o.port}`,
    'bind 127.0.0.1',
    'protected-mode yes',
    `dir ${q(o.dir)}`,
    `pidfile ${q(path.join(o.dir, REDIS_PIDFILE))}`,
    'appendonly yes',
    // every change is written to the AOF before its reply is sent. With everysec, redis postpones that write for up
    // to 2 s while its background fsync is slow (a busy disk), so a killed redis-server lost the last events (a CI run
    // saw a room's event numbering start over). With "no" only a power loss can cost what the kernel has not flushed;
    // "always" stalled redis up to ~400 ms per fsync on a busy disk
    'appendfsync no',
    'save ""',
    'daemonize no',
    'loglevel notice',
    `requirepass ${q(o.password)}`,
    '',
  ].join('\n');
}

/** The compiled guard script: beside this file when running from dist/, else dist/ of the repository (tests run the sources). */
export function guardEntry(): string {
  if (__filename.endsWith('.js')) return path.join(__dirname, 'redis-guard.js');
  const built = path.resolve(__dirname, '../../../dist/libs/jobs/src/redis-guard.js');
  if (!existsSync(built)) throw new Error(`the redis guard is not built (${built}): run "npm run build" first`);
  return built;
}

/** Sends SIGTERM (then SIGKILL) to redis-server processes left on the directory, and waits for them to end. */
export async function stopProcesses(pids: number[], graceMs = 3000): Promise<void> {
  const signal = (pid: number, s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* gone */
    }
  };
  const waitGone = async (ms: number) => {
    const end = Date.now() + ms;
    while (pids.some((p) => isAlive(p)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  };
  pids.forEach((p) => signal(p, 'SIGTERM'));
  await waitGone(graceMs);
  pids.filter((p) => isAlive(p)).forEach((p) => signal(p, 'SIGKILL'));
  await waitGone(2000);
  const left = pids.filter((p) => isAlive(p));
  if (left.length) throw new Error(`could not stop redis-server ${left.join(', ')}`);
}

class SupervisedRedis implements EmbeddedRedis {
  readonly url: string;
  readonly address: string;
  pid: number | undefined;
  restarts = 0;
  private guard?: ChildProcess;
  private startedAt = 0;
  private failures = 0;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private readonly config: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
    password: string,
    private readonly binary: string,
    private readonly logger: EmbeddedRedisLogger,
    private readonly release: () => void,
  ) {
    this.address = `127.0.0.1:${port}`;
    this.url = `redis://:${password}@${this.address}`;
    this.config = redisConfigText({ port, dir, password });
  }

  /** Starts guard + redis-server and resolves once redis accepts connections. */
  async spawnOnce(): Promise<void> {
    const guard = spawn(process.execPath, [guardEntry(), this.binary], {
      // its own session: a terminal's Ctrl-C reaches the server (which drains first), not Redis
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, [REDIS_CONFIG_ENV]: this.config },
    });
    this.guard = guard;
    // a failed spawn (EAGAIN, ENOMEM) is an 'error' event, fatal without a listener: the exit check below reports it
    guard.once('error', (e) => (output += `\n${e.message}`));
    guard.stdin?.on('error', () => undefined);
    let output = '';
    const onData = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
    guard.stdout?.on('data', onData);
    guard.stderr?.on('data', onData);
    const lastLine = () => output.trim().split('\n').pop()?.trim() ?? '';
    let ready = false;
    guard.once('exit', (code, signal) => {
      if (this.guard === guard) this.guard = undefined;
      if (!ready) return; // reported by the wait below
      this.pid = undefined;
      if (this.stopping) return;
      const killed = signal !== null || (code ?? 0) > 128;
      this.logger.warn(`embedded redis-server on ${this.address} ${describeExit(code, signal)}${killed ? '' : `: ${lastLine()}`}`);
      if (Date.now() - this.startedAt >= STABLE_MS) this.failures = 0; // it had run well: start the backoff over
      this.scheduleRestart();
    });
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const exited = guard.exitCode !== null || guard.signalCode !== null;
        if (!exited && /Ready to accept connections/i.test(output)) {
          clearInterval(timer);
          resolve();
        } else if (exited || Date.now() - started > READY_TIMEOUT_MS) {
          clearInterval(timer);
          if (!exited) guard.stdin?.end();
          const why = guard.exitCode === 127 ? `cannot run ${this.binary}. Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL` : output.trim().slice(-500);
          reject(new Error(`redis-server did not start (${exited ? describeExit(guard.exitCode, guard.signalCode) : 'timeout'}): ${why}`));
        }
      }, 25);
    });
    ready = true;
    this.startedAt = Date.now();
    this.pid = readPid(path.join(this.dir, REDIS_PIDFILE)) ?? findRedisOnDir(this.dir)[0];
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = restartDelayMs(this.failures);
    this.failures++;
    this.logger.warn(`restarting the embedded redis-server in ${delay} ms (on ${this.address}, data in ${this.dir})`);
    this.timer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    try {
      // a redis-server whose guard alone was killed still holds the port and the AOF: stop it first
      const left = findRedisOnDir(this.dir);
      if (left.length) await stopProcesses(left);
      if (this.stopping) return;
      await this.spawnOnce();
      if (this.stopping) return void (await this.stopGuard());
      this.restarts++;
      this.logger.log(`embedded redis-server restarted on ${this.address} (pid ${this.pid}, restart ${this.restarts})`);
    } catch (e) {
      if (this.stopping) return;
      this.logger.error(`could not restart the embedded redis-server: ${(e as Error).message}`);
      this.scheduleRestart();
    }
  }

  private async stopGuard(): Promise<void> {
    const guard = this.guard;
    const pid = this.pid;
    if (!guard || guard.exitCode !== null || guard.signalCode !== null) return;
    const exited = new Promise<boolean>((r) => {
      const t = setTimeout(() => r(false), STOP_TIMEOUT_MS);
      guard.once('exit', () => {
        clearTimeout(t);
        r(true);
      });
    });
    guard.stdin?.end(); // the same path as this process dying: the guard stops redis-server (SIGTERM), then exits
    if (!(await exited)) {
      guard.kill('SIGKILL');
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    await this.stopGuard();
    this.release();
  }
}

/** How the guard's exit reads: it exits with 128 + n when redis-server was killed by signal n. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `stopped: its guard got ${signal}`;
  if (code !== null && code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return `was killed (${name})`;
  }
  return `exited (code ${code})`;
}

export async function startEmbeddedRedis(dir: string, o: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const logger = o.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const port = await freePort();
  const claim = claimRedisDir(dir, port);
  try {
    if (claim.orphans.length) {
      logger.warn(`stopping redis-server ${claim.orphans.join(', ')} left running on ${dir} by a server that is gone`);
      await stopProcesses(claim.orphans);
    }
    const redis = new SupervisedRedis(dir, port, randomBytes(24).toString('hex'), o.binary ?? 'redis-server', logger, claim.release);
    await redis.spawnOnce();
    return redis;
  } catch (e) {
    claim.release();
    throw e;
  }
}
