/**
 * The parent-death guard of the embedded redis-server: `node redis-guard.js <redis-server> [args…]`, spawned by the
 * server with a pipe on its stdin. It starts redis-server with the configuration text of MCU_REDIS_CONFIG on redis'
 * stdin (`redis-server -`: the password is neither on a command line nor in a file), and
 * - when its stdin ends (the server exited or was killed, even with SIGKILL: the kernel closes the pipe), it stops
 *   redis-server (SIGTERM, SIGKILL after 3 s) and exits;
 * - when redis-server exits, it exits too (code 128 + signal number when redis was killed), so the server sees one
 *   child end and restarts the pair.
 * Linux's PR_SET_PDEATHSIG is not reachable from Node; this costs one small Node process per server.
 * Only node: built-ins here: it runs as a plain script from the compiled output.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const REDIS_CONFIG_ENV = 'MCU_REDIS_CONFIG';
const STOP_GRACE_MS = 3000;

function main(): void {
  const [binary, ...args] = process.argv.slice(2);
  if (!binary) {
    process.stderr.write('redis-guard: usage: redis-guard <redis-server> [args…]\n');
    process.exit(2);
  }
  const config = process.env[REDIS_CONFIG_ENV] ?? '';
  const env = { ...process.env };
  delete env[REDIS_CONFIG_ENV];
  const redis = spawn(binary, ['-', ...args], { stdio: ['pipe', 'inherit', 'inherit'], env });
  redis.stdin.on('error', () => undefined);
  redis.stdin.end(config);
  redis.once('error', (e) => {
    process.stderr.write(`redis-guard: cannot run ${binary}: ${e.message}\n`);
    process.exit(127);
  });
  redis.once('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    redis.kill('SIGTERM');
    setTimeout(() => redis.kill('SIGKILL'), STOP_GRACE_MS).unref();
  };
  // the server's end of the pipe: EOF (or an error) means it is gone or asks us to stop
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, stop);
}

if (require.main === module) main();
