import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, stopProcesses } from '@app/jobs';
import { findRedisOnDir, isAlive, procInfo, readPid, REDIS_PIDFILE } from '../../libs/jobs/src/redis-dir-claim';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { sleep, waitFor } from '../support/app-harness';
import { type EventsClient, openEvents } from '../support/events-client';

/**
 * The embedded redis-server (no REDIS_URL) under faults, with real processes: the server built as `npm start` runs it.
 * - kill -9 of the server: its redis-server ends within seconds (the guard sees its pipe close), and a second server on
 *   the same DATA_DIR never runs a second redis-server on it;
 * - kill -9 of the redis-server: restarted on the same directory, port and password; /readyz is ready again within 5 s,
 *   a recording starts (BullMQ queue and worker reconnected) and its events reach WebSocket clients (the subscriber too).
 */
const KEY = 'redis-fault-key';
const SECRET = 'redis-fault-secret-0123456789';
const MAIN = path.join(__dirname, '../../dist/apps/server/src/main.js');
const auth = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`, 'content-type': 'application/json' };

interface Server {
  proc: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

function startServer(dataDir: string, port: number): Server {
  // never an inherited REDIS_URL: this is about the embedded one
  const env = { ...process.env, REDIS_URL: '', PORT: String(port), HOST: '127.0.0.1', MCU_API_KEY: KEY, MCU_API_SECRET: SECRET, DATA_DIR: dataDir, LOG_LEVEL: 'log', LOG_FORMAT: 'json' };
  const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, base: `http://127.0.0.1:${port}`, output: () => out, exited };
}

const ready = async (s: Server): Promise<boolean> => (await fetch(`${s.base}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined))?.status === 200;
const redisPidOf = (dataDir: string) => readPid(path.join(dataDir, 'redis', REDIS_PIDFILE));
const redisOn = (dataDir: string) => findRedisOnDir(path.join(dataDir, 'redis'));

describe('embedded redis-server under faults', () => {
  const servers: Server[] = [];
  const dirs: string[] = [];
  const pubs: Publisher[] = [];
  let events: EventsClient | undefined;
  const newDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'mcu-redis-fault-'));
    dirs.push(d);
    return d;
  };
  const launch = async (dataDir: string) => {
    const s = startServer(dataDir, await freePort());
    servers.push(s);
    return s;
  };

  afterAll(async () => {
    events?.close();
    await Promise.allSettled(pubs.map((p) => p.close()));
    for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    // whatever a failed assertion left behind on these directories
    for (const d of dirs) await stopProcesses(redisOn(d)).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kill -9 of the server takes its redis-server down; never two redis-servers on one DATA_DIR', async () => {
    const dataDir = newDir();
    const a = await launch(dataDir);
    await waitFor(() => ready(a), 30_000, 'the first server to be ready');
    const first = redisPidOf(dataDir)!;
    expect(procInfo(first)?.comm).toBe('redis-server');
    expect(redisOn(dataDir)).toEqual([first]);

    // a second server on the same directory while the first runs: refuses, saying why; still one redis-server
    const b = await launch(dataDir);
    let timer: NodeJS.Timeout | undefined;
    const bExit = await Promise.race([b.exited, new Promise((r) => (timer = setTimeout(() => r('still running'), 30_000)))]).finally(() => clearTimeout(timer));
    expect(bExit).toBe(1);
    expect(b.output()).toContain('is in use by another server');
    expect(redisOn(dataDir)).toEqual([first]);
    expect(await ready(a)).toBe(true);

    // kill -9 of the server: its redis-server follows within seconds
    a.proc.kill('SIGKILL');
    await a.exited;
    await waitFor(() => !isAlive(first), 5000, `redis-server ${first} to end with its server`);

    // the next start on that directory: one redis-server, on the same data
    const c = await launch(dataDir);
    await waitFor(() => ready(c), 30_000, 'the restarted server to be ready');
    const second = redisPidOf(dataDir)!;
    expect(second).not.toBe(first);
    expect(redisOn(dataDir)).toEqual([second]);

    // a redis-server truly orphaned (its server and its guard killed at once) is stopped by the next start
    const guard = procInfo(second)!.ppid!;
    expect(procInfo(guard)?.ppid).toBe(c.proc.pid);
    process.kill(guard, 'SIGKILL');
    c.proc.kill('SIGKILL');
    await c.exited;
    await sleep(300);
    expect(isAlive(second)).toBe(true); // nobody left to stop it
    const d = await launch(dataDir);
    await waitFor(() => ready(d), 30_000, 'the server after the orphan to be ready');
    expect(isAlive(second)).toBe(false);
    expect(d.output()).toContain(`stopping redis-server ${second} left running`);
    expect(redisOn(dataDir)).toEqual([redisPidOf(dataDir)]);

    // SIGTERM: the server exits and its redis-server with it
    const last = redisPidOf(dataDir)!;
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    await waitFor(() => !isAlive(last), 5000, 'redis-server to end after SIGTERM');
  }, 150_000);

  it('kill -9 of the redis-server: ready again within 5 s, recordings start, room events flow', async () => {
    const dataDir = newDir();
    const s = await launch(dataDir);
    await waitFor(() => ready(s), 30_000, 'the server to be ready');
    const api = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(`${s.base}${p}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };
    const ROOM = 'redis-fault';
    expect((await api('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 10 })).status).toBe(201);
    const token = async (identity: string) => (await api('POST', `/v1/rooms/${ROOM}/tokens`, { identity })).json.token as string;
    events = await openEvents(`${s.base}/v1/rooms/${ROOM}/events?token=${await token('observer')}`);
    pubs.push(await startPublisher({ whipUrl: `${s.base}/v1/rooms/${ROOM}/whip`, token: await token('cam'), color: [0, 0, 255], width: 320, height: 180, fps: 10 }));

    await events.next((e) => e.type === 'participantJoined' && e.participant?.identity === 'cam', 20_000);
    const before = events.all().length;
    const lastSeq = Math.max(...events.all().map((e) => Number(e.seq ?? 0)));
    expect(lastSeq).toBeGreaterThan(0);
    const killed = redisPidOf(dataDir)!;
    const killedAt = Date.now();
    process.kill(killed, 'SIGKILL');
    // a readiness request made now waits for Redis (at most 2 s per check): the first 200 is when it is back
    await waitFor(() => ready(s), 10_000, '/readyz to be ready again');
    const recoveredMs = Date.now() - killedAt;
    console.log(`redis-server kill -9 → /readyz ready again in ${recoveredMs} ms`);
    expect(recoveredMs).toBeLessThanOrEqual(5000);
    const restarted = redisPidOf(dataDir)!;
    expect(restarted).not.toBe(killed);
    expect(redisOn(dataDir)).toEqual([restarted]);
    // logged (clients may reconnect a moment before the supervisor has seen redis' ready line and said so)
    await waitFor(() => /embedded redis-server restarted on 127\.0\.0\.1:\d+ \(pid \d+, restart 1\)/.test(s.output()), 5000, 'the restart to be logged');
    expect(s.output()).toMatch(/embedded redis-server on 127\.0\.0\.1:\d+ was killed \(SIGKILL\)/);
    // admission may refuse for a moment on a busy shared machine (503 capacity_exceeded, Retry-After): a client retries
    const created = await waitFor(async () => {
      const r = await api('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'mp4' });
      return (r.json.error as { code?: string } | undefined)?.code === 'capacity_exceeded' ? undefined : r;
    }, 30_000, 'admission to accept the recording', 1000);
    expect(created).toMatchObject({ status: 201 });
    const id = created.json.id as string;
    await waitFor(async () => (await api('GET', `/v1/recordings/${id}`)).json.status === 'active', 30_000, 'the recording to be active');
    await events.next((e) => e.type === 'recordingStatusChanged' && e.recording?.id === id && e.recording?.status === 'active', 10_000);
    // the data survived (AOF on the same directory): the room's event numbering went on instead of starting over. (A
    // fresh snapshot may come first, after the bus reconnected: it carries the current seq, not a new one.)
    const after = events.all().slice(before);
    const firstEvent = after.find((e) => e.type !== 'snapshot');
    expect(Number(firstEvent?.seq)).toBeGreaterThan(lastSeq);
    for (const snap of after.filter((e) => e.type === 'snapshot')) expect(Number(snap.seq)).toBeGreaterThanOrEqual(lastSeq);
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBeLessThan(300);
    expect(s.output()).not.toMatch(/redis:\/\/:[0-9a-f]{16,}@/); // the password is never logged
  }, 120_000);
});
