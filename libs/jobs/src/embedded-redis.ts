import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A private redis-server child for the embedded default (no REDIS_URL): loopback only, a free port, data under
 * `dir` with AOF on, stopped with the process that started it.
 */
export interface EmbeddedRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

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

export async function startEmbeddedRedis(dir: string, binary = 'redis-server'): Promise<EmbeddedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const onData = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (/Ready to accept connections/i.test(output)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > 10_000) {
        clearInterval(timer);
        reject(new Error(`redis-server did not start (${child.exitCode !== null ? `exit ${child.exitCode}` : 'timeout'}): ${output.trim().slice(-500)}`));
      }
    }, 50);
    child.once('error', (e) => {
      clearInterval(timer);
      reject(new Error(`cannot run ${binary}: ${e.message}. Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    },
  };
}
