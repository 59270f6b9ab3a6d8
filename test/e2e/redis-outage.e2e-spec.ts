import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '@app/jobs';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { sleep, startTestApp, type TestApp, waitFor, within } from '../support/app-harness';
import { type EventsClient, openEvents } from '../support/events-client';

/**
 * Issue 14, "Redis outage": a redis-server of the test's own (REDIS_URL) is stopped (SIGSTOP: connections stay open and
 * nothing answers) and then killed and started again on the same port and data. Meanwhile a room runs with a publisher,
 * a decoding viewer and HLS. Requests that need Redis answer 503 + Retry-After + JSON within about 2 s instead of
 * hanging; media keeps flowing; after the outage everything answers again, and events clients get a new snapshot
 * (events published while Redis was down never reached them).
 */
const ROOM = 'outage';
const FAST_MS = 2500; // "quickly": ≤ ~2 s, with room for a loaded 2-core machine

jest.setTimeout(90_000);

describe('Redis outage', () => {
  let t: TestApp;
  let redis: ChildProcess | undefined;
  let redisPort: number;
  let dataDir: string;
  let pub: Publisher | undefined;
  let viewer: Subscriber | undefined;
  let late: Subscriber | undefined;
  let events: EventsClient | undefined;
  const hlsFiles = () => {
    const dir = path.join(t.config.dataDir, 'hls', ROOM);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')) : [];
  };

  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    await waitFor(() => spawnSync('redis-cli', ['-p', String(redisPort), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 10_000, 'redis-server to answer');
  };

  /** A request that must be answered quickly: its status, Retry-After, JSON and how long it took. */
  const timed = async (method: string, p: string, body?: unknown) => {
    const t0 = Date.now();
    const r = await within(t.admin(method, p, body), 15_000, { status: 0, headers: new Headers(), text: 'no answer within 15 s', json: undefined });
    return { status: r.status, retryAfter: r.headers.get('retry-after'), json: r.json, ms: Date.now() - t0 };
  };
  const expectUnavailable = async (method: string, p: string, body?: unknown) => {
    const r = await timed(method, p, body);
    expect({ path: p, status: r.status, retryAfter: r.retryAfter, code: (r.json as { error?: { code?: string } })?.error?.code }).toEqual({ path: p, status: 503, retryAfter: '2', code: 'unavailable' });
    expect(r.ms).toBeLessThan(FAST_MS);
  };
  const framesOver = async (ms: number) => {
    const before = viewer!.stats().framesDecoded;
    await sleep(ms);
    return viewer!.stats().framesDecoded - before;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mcu-outage-redis-'));
    redisPort = await freePort();
    await startRedis();
    t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, HLS_SEGMENT_SECONDS: '1', HLS_IDLE_TIMEOUT_SECONDS: '120', PUBLISHER_TIMEOUT_SECONDS: '60' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, 'alice'), width: 320, height: 180, fps: 15 });
    await pub.connected();
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }) });
    await viewer.connected();
    await waitFor(() => viewer!.stats().framesDecoded > 10, 20_000, 'the viewer to decode the mix');
    expect((await t.admin('POST', `/v1/rooms/${ROOM}/hls`)).status).toBe(202);
    await waitFor(() => hlsFiles().length > 0, 20_000, 'HLS segments');
    events = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${await t.token(ROOM, 'watcher', { canPublish: false })}`);
    await events.next((e) => e.type === 'snapshot');
  }, 90_000);

  afterAll(async () => {
    if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
    events?.close();
    await Promise.allSettled([pub?.close(), viewer?.close(), late?.close()]);
    await t?.close();
    redis?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Redis stopped: 503 quickly, media flows; back: everything answers', async () => {
    const lateToken = await t.token(ROOM, 'late', { canPublish: false });
    process.kill(redis!.pid!, 'SIGSTOP');
    try {
      // what needs Redis: the room list, rooms that do not run here, a new room, a token for a room not here, recordings
      await expectUnavailable('GET', '/v1/rooms');
      await expectUnavailable('GET', '/v1/rooms/elsewhere');
      await expectUnavailable('POST', '/v1/rooms', { name: 'another' });
      await expectUnavailable('POST', '/v1/rooms/elsewhere/tokens', { identity: 'bob' });
      await expectUnavailable('GET', '/v1/recordings');
      // what this node knows by itself still answers
      expect((await timed('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
      // the room's media does not need Redis: the viewer keeps decoding the mix, HLS keeps writing
      const segments = new Set(hlsFiles());
      expect(await framesOver(3000)).toBeGreaterThan(15);
      await waitFor(() => hlsFiles().some((f) => !segments.has(f)), 8000, 'a new HLS segment while Redis is stopped');
      // a viewer joining a room that runs here is admitted without Redis
      late = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: lateToken });
      await late.connected();
      await waitFor(() => late!.stats().framesDecoded > 5, 20_000, 'the late viewer to decode the mix');
    } finally {
      process.kill(redis!.pid!, 'SIGCONT');
    }
    await waitFor(async () => (await t.admin('GET', '/v1/rooms')).status === 200, 10_000, 'GET /v1/rooms to answer 200 again');
    const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { participants: Array<{ identity: string }> };
    expect(room.participants.map((p) => p.identity)).toEqual(expect.arrayContaining(['alice', 'late', 'viewer']));
    expect((await t.admin('POST', `/v1/rooms/${ROOM}/tokens`, { identity: 'carol' })).status).toBe(201);
    expect(await framesOver(2000)).toBeGreaterThan(10);
  });

  it('Redis killed and restarted on its data: 503 quickly while down, events clients get a new snapshot after', async () => {
    redis!.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    await expectUnavailable('GET', '/v1/rooms');
    await expectUnavailable('GET', '/v1/rooms/elsewhere');
    // a participant leaves while Redis is down: its participantLeft cannot reach the events clients
    const seen = events!.all().length;
    expect(await late!.leave()).toBe(200);
    late = undefined;
    expect(await framesOver(2000)).toBeGreaterThan(10);
    await startRedis();
    const snapshot = await events!.next((e) => e.type === 'snapshot', 15_000);
    expect(snapshot.participants.map((p: { identity: string }) => p.identity)).not.toContain('late');
    expect(snapshot.participants.map((p: { identity: string }) => p.identity)).toContain('alice');
    expect(events!.all().length).toBeGreaterThan(seen);
    await waitFor(async () => (await t.admin('GET', '/v1/rooms')).status === 200, 10_000, 'GET /v1/rooms to answer 200 again');
    expect((await t.admin('GET', '/v1/rooms/elsewhere')).status).toBe(404);
    expect(await framesOver(2000)).toBeGreaterThan(10);
    // events flow again after the snapshot
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'speaker' })).status).toBe(200);
    await events!.next((e) => e.type === 'layoutChanged' && e.layout === 'speaker', 10_000);
    expect(events!.isOpen()).toBe(true);
  });
});
