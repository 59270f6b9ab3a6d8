import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '@app/jobs';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { probe } from '../support/media-file';
import { sleep, waitFor } from '../support/app-harness';

/**
 * Redis over TLS (`REDIS_URL=rediss://…`, issue 14): the built server against a real redis-server that speaks only TLS
 * (no plain port) and wants a password, its certificate signed by a CA made here and trusted through
 * NODE_EXTRA_CA_CERTS. The server is ready, keeps its rooms in that Redis, and a recording goes through the BullMQ queue
 * and its worker to a playable file; the password never appears in what the server logs.
 */
const MAIN = path.join(__dirname, '../../dist/apps/server/src/main.js');
const KEY = 'tls-key';
const SECRET = 'tls-secret-0123456789abcdef';
const PASSWORD = 'tls-redis-password-0123456789';
const auth = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`, 'content-type': 'application/json' };

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const maybe = hasOpenssl ? describe : describe.skip; // reported as skipped, not as a pass, where openssl is missing

maybe('Redis over TLS (rediss://)', () => {
  let dir: string;
  let redis: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let serverLog = '';
  let base: string;
  const pubs: Publisher[] = [];
  const stop = async (p: ChildProcess | undefined) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcu-redis-tls-'));
    const f = (n: string) => path.join(dir, n);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=mcu-test-ca');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('redis.key'), '-out', f('redis.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', f('redis.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('redis.pem'), '-days', '1', '-extfile', f('ext'));

    const tlsPort = await freePort();
    const redisArgs = ['--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--tls-cert-file', f('redis.pem'), '--tls-key-file', f('redis.key'), '--tls-ca-cert-file', f('ca.pem'), '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'];
    redis = spawn('redis-server', redisArgs, { stdio: 'ignore' });
    await waitFor(() => {
      try {
        return execFileSync('redis-cli', ['--tls', '--cacert', f('ca.pem'), '-p', String(tlsPort), '--no-auth-warning', '-a', PASSWORD, 'ping'], { encoding: 'utf8' }).trim() === 'PONG';
      } catch {
        return false;
      }
    }, 10_000, 'redis-server with TLS to answer');

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`,
      REDIS_KEY_PREFIX: 'tls-test',
      NODE_EXTRA_CA_CERTS: f('ca.pem'),
      RUN_WORKER: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      MCU_API_KEY: KEY,
      MCU_API_SECRET: SECRET,
      DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'log',
    };
    server = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [server.stdout!, server.stderr!]) s.on('data', (b: Buffer) => (serverLog += b.toString()));
    const srv = server;
    await waitFor(async () => {
      if (srv.exitCode !== null) throw new Error(`the server exited (${srv.exitCode})`);
      return (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
    }, 30_000, 'the server to be ready').catch((e: Error) => {
      throw new Error(`${e.message}; its log: ${serverLog.slice(-3000)}`);
    });
  }, 60_000);

  afterAll(async () => {
    for (const p of pubs) await p.close().catch(() => undefined);
    await stop(server);
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${base}${p}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: (await r.json().catch(() => ({}))) as Record<string, unknown> };
  };

  it('is ready on a Redis that speaks only TLS, keeps rooms there, records through the queue to a playable file, and never logs the password', async () => {
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: { redis: { ok: boolean } } };
    expect(ready.checks.redis.ok).toBe(true);
    expect((await api('POST', '/v1/rooms', { name: 'tls', width: 320, height: 180, fps: 15 })).status).toBe(201);
    expect(((await api('GET', '/v1/rooms')).json.rooms as Array<{ name: string }>).map((r) => r.name)).toContain('tls');

    const token = (await api('POST', '/v1/rooms/tls/tokens', { identity: 'cam' })).json.token as string;
    pubs.push(await startPublisher({ whipUrl: `${base}/v1/rooms/tls/whip`, token, color: [200, 0, 0], width: 320, height: 180, fps: 15 }));
    const rec = await api('POST', '/v1/rooms/tls/recordings', { format: 'mp4' });
    expect(rec.status).toBe(201);
    const id = rec.json.id as string;
    await waitFor(async () => (await api('GET', `/v1/recordings/${id}`)).json.status === 'active', 30_000, 'the recording to be active');
    await sleep(3000);
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const done = await waitFor(async () => {
      const r = (await api('GET', `/v1/recordings/${id}`)).json;
      return r.status === 'ready' || r.status === 'failed' ? r : undefined;
    }, 30_000, 'the recording to end');
    expect(done.status).toBe('ready');
    const file = await fetch(`${base}/v1/recordings/${id}/file`, { headers: auth });
    expect(file.status).toBe(200);
    const mp4 = path.join(dir, 'out.mp4');
    writeFileSync(mp4, Buffer.from(await file.arrayBuffer()));
    const info = probe(mp4);
    expect(info.durationSeconds).toBeGreaterThan(1.5);
    expect(info.streams.map((s) => s.codec_type).sort()).toEqual(["audio", "video"]);

    expect(serverLog).not.toContain(PASSWORD);
  }, 90_000);
});
