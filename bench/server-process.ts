import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from '@app/jobs';

/** The MCU server as a separate process (so its CPU can be measured apart from the load generators). */
export interface ServerProcess {
  baseUrl: string;
  pid: number;
  /** Admin credentials (Basic auth), e.g. for a child process that mints its own tokens. */
  apiKey: string;
  apiSecret: string;
  admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  token(room: string, identity: string, extra?: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

const KEY = 'benchkey';
const SECRET = 'bench-secret-0123456789';

export async function startServer(repoRoot: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server under load.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(repoRoot, 'dist/apps/server/src/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MCU_API_KEY: KEY, MCU_API_SECRET: SECRET, LOG_LEVEL: 'warn', RTMP_ALLOW_PRIVATE: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const auth = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;
  const admin = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    baseUrl,
    pid: child.pid!,
    apiKey: KEY,
    apiSecret: SECRET,
    admin,
    async token(room, identity, extra = {}) {
      const r = await admin('POST', `/v1/rooms/${room}/tokens`, { identity, ...extra });
      return (r.json as { token: string }).token;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    },
  };
}
