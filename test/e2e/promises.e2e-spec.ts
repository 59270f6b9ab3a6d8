import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '@app/jobs';
import { commandOf, descendantsOf } from '../../apps/server/src/metrics/proc-children';
import { isAlive } from '../../libs/jobs/src/redis-dir-claim';
import { meanColor, nearestNamedColor, NAMED_COLORS, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { dropPeerSilently, gatheredOffer, h264Codec, httpRequest, vp8Codec } from '../helpers/webrtc-peer';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { probe } from '../support/media-file';
import { sleep, startTestApp, type TestApp, waitFor, within } from '../support/app-harness';
import { type EventsClient, openEvents } from '../support/events-client';

/**
 * What the README promises and no other test checked (issue 14's list), on real peers and processes:
 * - the per-room publisher cap (MAX_PUBLISHERS_PER_ROOM): one more publisher is refused by admission control (409
 *   `conflict`, `error.limit`: the room is full) before anything starts, and the room keeps its picture;
 * - PUBLIC_IP and the UDP port range (RTC_MIN_PORT/RTC_MAX_PORT) in the answer's candidates;
 * - the events socket closes with 4410 when its room is deleted, and with 1009 on a frame over the ws cap (64 KiB);
 * - a room's ffmpeg children are gone after the room closes, and all of the server's after it exits (SIGTERM and kill -9)
 *   while it records; restarted on the same data, the recording ends in a true state with a playable file; each of
 *   them runs with the memory bound FFMPEG_MAX_MEMORY_MB.
 */
const ROOM = 'promises';
const PUBLIC_IP = '203.0.113.7';
const MIN_PORT = 47100;
const MAX_PORT = 47199;

/** A process's RLIMIT_DATA (soft) from /proc: bytes, or 'unlimited'. */
const maxDataBytes = (pid: number): number | 'unlimited' => {
  const v = /^Max data size\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? '';
  return v === 'unlimited' ? v : Number(v);
};
const ffmpegUnder = (pid: number): number[] => descendantsOf(pid).filter((p) => commandOf(p.argv[0] ?? '').startsWith('ffmpeg')).map((p) => p.pid);

describe('promises the README makes', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  let viewer: Subscriber | undefined;
  let events: EventsClient | undefined;
  beforeAll(async () => {
    t = await startTestApp({ MAX_PUBLISHERS_PER_ROOM: '2', PUBLIC_IP, RTC_MIN_PORT: String(MIN_PORT), RTC_MAX_PORT: String(MAX_PORT) });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
  });
  afterAll(async () => {
    events?.close();
    await viewer?.close();
    for (const p of pubs) await p.close();
    await t?.close();
  });

  it('a publisher beyond MAX_PUBLISHERS_PER_ROOM gets 409 conflict naming the limit (the room is full); the room keeps its two tiles', async () => {
    for (const [identity, color] of [['left', 'red'], ['right', 'blue']] as const) {
      pubs.push(await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, identity), color: NAMED_COLORS[color] as Rgb, width: 320, height: 180, fps: 15 }));
    }
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'watcher', { canPublish: false }), decodeWidth: 320, decodeHeight: 180 });
    const halves = (f: Parameters<typeof meanColor>[0]) => [
      nearestNamedColor(meanColor(f, { x: f.width * 0.15, y: f.height * 0.4, w: f.width * 0.2, h: f.height * 0.2 })),
      nearestNamedColor(meanColor(f, { x: f.width * 0.65, y: f.height * 0.4, w: f.width * 0.2, h: f.height * 0.2 })),
    ];
    await viewer.waitForFrame((f) => halves(f).join() === 'red,blue', 20_000).catch(async (e: Error) => {
      // said when it fails (a suite run once saw frames but not the two tiles): what the picture and the room showed
      const f = viewer?.latestFrame();
      throw new Error(`${e.message}; latest halves ${f ? halves(f).join() : 'none'}; room ${JSON.stringify((await t.admin('GET', `/v1/rooms/${ROOM}`)).json)}`);
    });

    const { pc, sdp } = await gatheredOffer('sendonly', [h264Codec(), vp8Codec()]);
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whip`, { Authorization: `Bearer ${await t.token(ROOM, 'third')}`, 'Content-Type': 'application/sdp' }, sdp);
    await dropPeerSilently(pc);
    expect(r.status).toBe(409);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'conflict', limit: 'max_publishers_per_room', message: expect.stringContaining('MAX_PUBLISHERS_PER_ROOM') } });
    const later = viewer.latestFrame()!.index;
    await viewer.waitForFrame((f) => f.index > later + 10 && halves(f).join() === 'red,blue', 10_000);
    expect(((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { numPublishers: number }).numPublishers).toBe(2);
  }, 90_000);

  it('answers with PUBLIC_IP among its host candidates, every candidate port within RTC_MIN_PORT..RTC_MAX_PORT', async () => {
    const { pc, sdp } = await gatheredOffer('recvonly', [h264Codec(), vp8Codec()]);
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whep`, { Authorization: `Bearer ${await t.token(ROOM, 'candidates')}`, 'Content-Type': 'application/sdp' }, sdp);
    await dropPeerSilently(pc);
    expect(r.status).toBe(201);
    const candidates = [...r.body.matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host/gim)].map((m) => ({ ip: m[1], port: Number(m[2]) }));
    expect(candidates.map((c) => c.ip)).toContain(PUBLIC_IP);
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) expect([c.ip, c.port >= MIN_PORT && c.port <= MAX_PORT]).toEqual([c.ip, true]);
  });

  it('closes an events socket with 1009 on a frame over 64 KiB, and with 4410 when its room is deleted', async () => {
    const big = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${encodeURIComponent(await t.token(ROOM, 'big', { canPublish: false }))}`);
    await big.next((e) => e.type === 'snapshot', 10_000);
    big.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }));
    expect(await within(big.closed, 10_000, 'still open')).toBe(1009);

    events = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${encodeURIComponent(await t.token(ROOM, 'observer', { canPublish: false }))}`);
    await events.next((e) => e.type === 'snapshot', 10_000);
    // the encoder and two decoders (the room's state comes from its worker thread every so often: wait for it)
    const pidsOf = () => {
      const p = t.rooms.get(ROOM).mixerPids();
      return [...new Set([p?.encoder, ...Object.values(p?.encoders ?? {}), ...Object.values(p?.decoders ?? {})])].filter((x): x is number => typeof x === 'number');
    };
    const pids = await waitFor(() => (pidsOf().length >= 3 ? pidsOf() : undefined), 10_000, "the room's encoder and two decoders");
    expect(pids.every((p) => isAlive(p))).toBe(true);

    expect((await t.admin('DELETE', `/v1/rooms/${ROOM}`)).status).toBe(204);
    expect(await within(events.closed, 10_000, 'still open')).toBe(4410);
    // the room's own ffmpeg children (not the publishers' test encoders, which are this test's) are gone
    await waitFor(() => pids.every((p) => !isAlive(p)), 10_000, `the room's ffmpeg ${pids.join(', ')} to be gone`);
  }, 60_000);
});

describe('no ffmpeg outlives the server; a recording survives it', () => {
  const MAIN = path.join(__dirname, '../../dist/apps/server/src/main.js');
  const KEY = 'promises-key';
  const SECRET = 'promises-secret-0123456789abcdef';
  const auth = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`, 'content-type': 'application/json' };
  const procs: ChildProcess[] = [];
  const pubs: Publisher[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of pubs) await p.close();
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await sleep(300);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const launch = async (dataDir: string) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, REDIS_URL: '', PORT: String(port), HOST: '127.0.0.1', MCU_API_KEY: KEY, MCU_API_SECRET: SECRET, DATA_DIR: dataDir, LOG_LEVEL: 'warn', RECORDING_HEARTBEAT_TIMEOUT_SECONDS: '4' };
    const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(proc);
    let err = '';
    proc.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 30_000, `the server to be ready (stderr: ${err})`);
    const api = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(`${base}${p}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, json: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    };
    return { proc, base, api, exited };
  };

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} of the server while it records: every ffmpeg it ran is gone within 5 s; restarted on its data, the recording is in a true state and plays`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'mcu-promises-'));
      dirs.push(dataDir);
      const s = await launch(dataDir);
      const room = `exit-${signal.toLowerCase()}`;
      expect((await s.api('POST', '/v1/rooms', { name: room, width: 320, height: 180, fps: 15 })).status).toBe(201);
      const tok = (await s.api('POST', `/v1/rooms/${room}/tokens`, { identity: 'cam' })).json.token as string;
      pubs.push(await startPublisher({ whipUrl: `${s.base}/v1/rooms/${room}/whip`, token: tok, color: [0, 200, 0], width: 320, height: 180, fps: 15 }));
      const id = (await s.api('POST', `/v1/rooms/${room}/recordings`, { format: 'mp4' })).json.id as string;
      await waitFor(async () => (await s.api('GET', `/v1/recordings/${id}`)).json.status === 'active', 30_000, 'the recording to be active');
      await sleep(3000);
      // the room's encoder, the publisher's decoder and the recorder run (grandchildren: thread → spawner → ffmpeg)
      const running = await waitFor(() => (ffmpegUnder(s.proc.pid!).length >= 3 ? ffmpegUnder(s.proc.pid!) : undefined), 20_000, 'the ffmpeg processes to run');
      // each of them runs with the memory bound FFMPEG_MAX_MEMORY_MB (default 1024 MB of RLIMIT_DATA)
      for (const pid of running) expect(maxDataBytes(pid)).toBe(1024 * 1024 * 1024);
      s.proc.kill(signal);
      await s.exited;
      const started = Date.now();
      await waitFor(() => running.every((p) => !isAlive(p)), 5000, `ffmpeg ${running.join(', ')} to end after ${signal} of the server`);
      console.log(`${signal}: ${running.length} ffmpeg gone ${Date.now() - started} ms after the server exited`);

      // the next start on the same data finds the recording and ends it truly: ready (SIGTERM finished it), or failed
      // with what it had recorded (a killed run is not resumed; README "Limitations")
      const again = await launch(dataDir);
      const rec = await waitFor(async () => {
        const r = (await again.api('GET', `/v1/recordings/${id}`)).json;
        return r.status === 'ready' || r.status === 'failed' ? r : undefined;
      }, 40_000, `recording ${id} to end after the restart`, 500);
      expect(rec.status).toBe(signal === 'SIGTERM' ? 'ready' : 'failed');
      const res = await fetch(`${again.base}/v1/recordings/${id}/file`, { headers: auth });
      expect(res.status).toBe(200);
      const file = path.join(dataDir, `downloaded-${id}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const info = probe(file);
      expect(info.streams.map((x) => x.codec_type)).toContain('video');
      expect(info.durationSeconds).toBeGreaterThan(2);
      again.proc.kill('SIGTERM');
      await again.exited;
    }, 120_000);
  }
});
