import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import { freePort } from '@app/jobs';
import { REDIS_INFO, type RedisInfo } from '../../apps/server/src/recordings/jobs.providers';
import { spawnFfmpeg, type TrackedChild } from '../helpers/ffmpeg-children';
import { insetRect, meanColor, NAMED_COLORS, nearestNamedColor, type Rgb, type RgbFrame } from '../helpers/media-probe';
import { type Publisher, startPublisher } from '../helpers/synthetic-publisher';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { frameAt, probe } from '../support/media-file';
import { moovBeforeMdat } from '../helpers/container-index';

/**
 * Outputs survive their room's stream going away: a separate worker process records a room and pushes it over RTMP,
 * both through WHEP; the room's media worker crashes (its sessions end, as when the room moves to another node), the
 * publisher comes back (a new one, in another colour), and the recording continues in a second part while the
 * livestream reconnects. At the end the two parts are stitched into the recording's file; each part is downloadable.
 */
const ROOM = 'parts-room';
const W = 640;
const H = 360;
const KEY = 'parts-key';
type Json = Record<string, unknown>;
type Part = { index: number; fileName: string; startedAt: string; endedAt?: string; durationSeconds?: number; sizeBytes?: number };

const colour = (f: RgbFrame) => {
  const r = gridLayout(1, W, H)[0];
  return nearestNamedColor(meanColor(f, insetRect({ x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H }, 0.3)));
};

function rtmpReceiver(port: number, file: string): TrackedChild {
  return spawnFfmpeg(['-loglevel', 'warning', '-listen', '1', '-timeout', '60', '-i', `rtmp://127.0.0.1:${port}/live/${KEY}`, '-c', 'copy', '-f', 'flv', file], { stdio: ['ignore', 'ignore', 'pipe'] });
}
const sizeOf = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

describe('recording parts', () => {
  let t: TestApp;
  let worker: ChildProcess | undefined;
  let dir: string;
  const pubs: Publisher[] = [];
  const receivers: TrackedChild[] = [];

  const auth = () => ({ authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` });
  const rec = async (id: string) => (await t.admin('GET', `/v1/recordings/${id}`)).json as Json & { parts?: Part[] };
  const download = async (urlPath: string, file: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.baseUrl}${urlPath}`, { headers: { ...auth(), ...headers } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 200) writeFileSync(file, body);
    return { status: res.status, contentType: res.headers.get('content-type'), bytes: body.length };
  };

  /** POST that creates an output; a 503 (admission: this shared machine's worker is busy for a moment) is retried. */
  const create = (urlPath: string, body: Json) =>
    waitFor(async () => {
      const r = await t.admin('POST', urlPath, body);
      if (r.status === 201) return r.json as Json;
      if (r.status !== 503) throw new Error(`POST ${urlPath}: ${r.status} ${r.text}`);
      return undefined;
    }, 20_000, `POST ${urlPath} to be admitted`, 500);

  /**
   * One publisher, connected. Like a real client it POSTs again when refused with a 503 ("try again": the dead worker is
   * being replaced, or admission on this shared machine) or when its handshake stays 'connecting' under load.
   */
  const publish = (identity: string, color: 'red' | 'blue', tone: number) =>
    waitFor(async () => {
      let p: Publisher | undefined;
      try {
        p = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, identity), color: NAMED_COLORS[color] as Rgb, toneHz: tone, width: 320, height: 180, fps: 15, gop: 15 });
        await p.connected();
        return p;
      } catch (e) {
        await p?.close();
        if (/ 503 |not connected/.test((e as Error).message)) return undefined;
        throw e;
      }
    }, 50_000, `${identity} to publish`, 300);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await Promise.allSettled(pubs.map((p) => p.close()));
    await t?.close();
    await Promise.allSettled(receivers.map((r) => r.kill()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a lost room stream makes a second part; the parts are stitched; the livestream reconnects', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcu-parts-'));
    t = await startTestApp({ RUN_WORKER: 'false', RTMP_ALLOW_PRIVATE: '1' });
    worker = spawn(process.execPath, [path.join(__dirname, '../../dist/apps/worker/src/main.js')], {
      env: {
        ...process.env,
        REDIS_URL: t.app.get<RedisInfo>(REDIS_INFO).url,
        MCU_SERVER_URL: t.baseUrl,
        RECORDINGS_DIR: t.config.recordingsDir,
        RECORDING_RECONNECT_SECONDS: '30',
        LIVESTREAM_RETRY_BACKOFF_MS: '300',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        MCU_API_KEY: '',
        MCU_API_SECRET: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 15, videoBitrateKbps: 600 })).status).toBe(201);
    pubs.push(await publish('red', 'red', 440));

    const port = await freePort();
    const flv1 = path.join(dir, '1.flv');
    receivers.push(rtmpReceiver(port, flv1));
    await sleep(300);
    const ls = await create(`/v1/rooms/${ROOM}/livestreams`, { url: `rtmp://127.0.0.1:${port}/live/${KEY}` });
    const id = (await create(`/v1/rooms/${ROOM}/recordings`, {})).id as string;
    await waitFor(async () => (await rec(id)).status === 'active', 30_000, 'the recording to be active', 200);
    await waitFor(async () => ((await t.admin('GET', `/v1/livestreams/${ls.id}`)).json as Json).status === 'active', 30_000, 'the livestream to be active', 200);
    await sleep(4000);
    const during = await rec(id);
    expect(during.parts).toEqual([{ index: 1, fileName: `${id}.mp4`, startedAt: during.startedAt, durationSeconds: expect.any(Number), sizeBytes: expect.any(Number) }]);

    // The room's media worker dies: every session of the room ends. The publisher comes back (in blue).
    t.rooms.injectWorkerFault(ROOM);
    await waitFor(async () => {
      const r = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { participants: Array<{ identity: string }> };
      return !r.participants.some((p) => p.identity === 'red');
    }, 10_000, "the dead worker's sessions to be gone", 100);
    await pubs[0].close();
    pubs.push(await publish('blue', 'blue', 550));

    // The recorder finishes part 1 and records part 2 after reconnecting; the recording stays active throughout.
    const two = await waitFor(async () => {
      const r = await rec(id);
      return (r.parts?.length ?? 0) >= 2 && (r.parts?.[1].durationSeconds ?? 0) > 0 ? r : undefined;
    }, 30_000, 'a second part', 250);
    expect(two.status).toBe('active');
    expect(two.parts![0]).toMatchObject({ index: 1, endedAt: expect.any(String), durationSeconds: expect.any(Number) });
    expect(two.parts![1]).toMatchObject({ index: 2, fileName: `${id}.part2.mp4` });
    expect(two.parts![1].endedAt).toBeUndefined();

    // The livestream's pusher hung up when its source went silent; it comes back to a new receiver.
    await receivers[0].exited;
    const flv2 = path.join(dir, '2.flv');
    receivers.push(rtmpReceiver(port, flv2));
    await waitFor(async () => {
      const l = (await t.admin('GET', `/v1/livestreams/${ls.id}`)).json as Json;
      return l.status === 'active' && (l.reconnects as number) >= 1;
    }, 30_000, 'the livestream to be active again', 250);
    await waitFor(() => sizeOf(flv2) > 60_000, 15_000, 'media at the new receiver');
    expect(colour(frameAt(flv2, Math.max(0.5, probe(flv2).durationSeconds - 0.5)))).toBe('blue');

    await sleep(Math.max(0, 3000 - (Date.now() - Date.parse(two.parts![1].startedAt))));
    expect((await t.admin('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const ready = await waitFor(async () => {
      const r = await rec(id);
      return r.status === 'ready' || r.status === 'failed' ? r : undefined;
    }, 30_000, 'the recording to end', 250);
    expect(ready).toMatchObject({ status: 'ready', format: 'mp4' });
    expect(ready.warning).toBeUndefined();
    expect(ready.error).toBeUndefined();
    const parts = ready.parts!;
    expect(parts.map((p) => [p.index, p.fileName])).toEqual([
      [1, `${id}.part1.mp4`],
      [2, `${id}.part2.mp4`],
    ]);
    // the parts, the stitched file and its thumbnail; no temporary file left
    expect(readdirSync(t.config.recordingsDir).filter((f) => f.startsWith(id)).sort()).toEqual([`${id}.jpg`, `${id}.mp4`, `${id}.part1.mp4`, `${id}.part2.mp4`]);
    expect(ready.thumbnailUrl).toBe(`/v1/recordings/${id}/thumbnail`);

    // each part: downloadable (with Range), playable, the publisher of its time
    const files: string[] = [];
    for (const [i, want] of [[1, 'red'], [2, 'blue']] as const) {
      const file = path.join(dir, `part${i}.mp4`);
      const got = await download(`/v1/recordings/${id}/parts/${i}`, file);
      expect(got).toMatchObject({ status: 200, contentType: 'video/mp4' });
      const info = probe(file);
      expect(info.durationSeconds).toBeGreaterThan(1);
      expect(Math.abs(info.durationSeconds - parts[i - 1].durationSeconds!)).toBeLessThan(0.5);
      expect(colour(frameAt(file, Math.max(0.2, info.durationSeconds - 1)))).toBe(want);
      files.push(file);
    }
    expect(await download(`/v1/recordings/${id}/parts/2`, '', { range: 'bytes=0-99' })).toMatchObject({ status: 206, bytes: 100 });
    for (const bad of ['3', '0', 'x', '1.5']) expect((await download(`/v1/recordings/${id}/parts/${bad}`, '')).status).toBe(404);
    expect((await t.request('GET', `/v1/recordings/${id}/parts/1`)).status).toBe(401);

    // the stitched file: the recording's usual file, as long as its parts together, red then blue
    const whole = path.join(dir, 'whole.mp4');
    expect((await download(`/v1/recordings/${id}/file`, whole)).status).toBe(200);
    const info = probe(whole);
    const sum = files.map((f) => probe(f).durationSeconds).reduce((a, b) => a + b, 0);
    expect(Math.abs(info.durationSeconds - sum)).toBeLessThanOrEqual(2);
    expect(Math.abs((ready.durationSeconds as number) - info.durationSeconds)).toBeLessThan(0.5);
    expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:opus', 'video:h264']);
    expect(colour(frameAt(whole, 1))).toBe('red');
    expect(colour(frameAt(whole, info.durationSeconds - 1))).toBe('blue');
    expect(moovBeforeMdat(readFileSync(whole))).toBe(true); // stitched with its index at the front

    // DELETE removes the recording's every file
    expect((await t.admin('DELETE', `/v1/recordings/${id}`)).status).toBe(204);
    expect(readdirSync(t.config.recordingsDir).filter((f) => f.startsWith(id))).toEqual([]);
    expect((await t.admin('DELETE', `/v1/livestreams/${ls.id}`)).status).toBe(200);
  }, 120_000);
});
