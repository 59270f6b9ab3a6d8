import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import { verifyWebhook } from '@app/jobs';
import { REDIS_INFO, type RedisInfo } from '../../apps/server/src/recordings/jobs.providers';
import { insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type RgbFrame, type Rgb, toneLevel } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { launchChromium } from '../support/browser';
import { publishRedGreen } from '../support/red-green-room';
import { startTestApp, sleep, type TestApp, waitFor } from '../support/app-harness';
import { isFragmented, matroskaTopLevel, moovBeforeMdat } from '../helpers/container-index';
import { audioOf, frameAt, pictureOf, probe } from '../support/media-file';

/**
 * Recordings end to end: the real app with its own Redis, real BullMQ workers (in-process, and a separate worker
 * process that gets kill -9'd), real ffmpeg, real werift publishers; the files are probed and decoded.
 */
const ROOM = 'rec-room';
const W = 640;
const H = 360;
type Json = Record<string, unknown>;

const tiles = (f: RgbFrame, n: number) =>
  gridLayout(n, W, H).map((r) => nearestNamedColor(meanColor(f, insetRect({ x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H }, 0.3))));

/** A webhook receiver that refuses its first `refuse` requests (503), then records every event. */
async function webhookReceiver(refuse: number) {
  const events: Array<{ body: Json; signatureOk: boolean }> = [];
  let attempts = 0;
  let secret = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (attempts <= refuse) return res.writeHead(503).end();
      const raw = Buffer.concat(chunks).toString();
      events.push({ body: JSON.parse(raw) as Json, signatureOk: verifyWebhook(raw, { timestamp: req.headers['x-mcu-timestamp'], signature: req.headers['x-mcu-signature'] }, secret).ok });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    attempts: () => attempts,
    setSecret: (s: string) => (secret = s),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('recordings', () => {
  let t: TestApp;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  const pubs: Publisher[] = [];

  const auth = () => ({ authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` });
  const rec = async (id: string) => (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
  const waitStatus = (id: string, status: string, timeoutMs: number) => waitFor(async () => ((await rec(id)).status === status ? rec(id) : undefined), timeoutMs, `${id} to be ${status}`, 200);
  const download = async (id: string, ext: string) => {
    const res = await fetch(`${t.baseUrl}/v1/recordings/${id}/file`, { headers: { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    const file = path.join(tmpdir(), `${id}.${ext}`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return { file, contentType: res.headers.get('content-type') };
  };

  beforeAll(async () => {
    hook = await webhookReceiver(3);
    t = await startTestApp({ WEBHOOK_URL: hook.url, WEBHOOK_BACKOFF_MS: '100', RECORDING_HEARTBEAT_TIMEOUT_SECONDS: '4' });
    hook.setSecret(t.config.webhookSecret);
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 15, videoBitrateKbps: 800 })).status).toBe(201);
    pubs.push(...(await publishRedGreen(t, ROOM)));
  });

  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    await t?.close();
    await hook?.close();
  });

  let mp4Id = '';

  it('records 10 s to MP4: ready, the right length and streams, the tiles and the tones', async () => {
    const created = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { name: 'Weekly sync' });
    expect(created.status).toBe(201);
    const r = created.json as Json;
    expect(r).toMatchObject({ room: ROOM, name: 'Weekly sync', format: 'mp4', audioOnly: false, status: 'queued' });
    mp4Id = r.id as string;
    expect(mp4Id).toMatch(/^rec_[a-z0-9]{16}$/);
    await waitStatus(mp4Id, 'active', 20_000);
    const t0 = Date.now();
    await sleep(4000);
    const mid = await rec(mp4Id); // progress is visible while active
    expect(mid.durationSeconds).toBeGreaterThan(2);
    expect(mid.sizeBytes).toBeGreaterThan(10_000);
    await sleep(10_000 - (Date.now() - t0));
    const stopAt = Date.now();
    expect((await t.admin('POST', `/v1/recordings/${mp4Id}/stop`)).status).toBe(202);
    const ready = await waitStatus(mp4Id, 'ready', 15_000);
    console.log(`stop → ready in ${Date.now() - stopAt} ms`);
    expect(ready).toMatchObject({ status: 'ready', startedAt: expect.any(String), endedAt: expect.any(String) });

    const { file, contentType } = await download(mp4Id, 'mp4');
    expect(contentType).toBe('video/mp4');
    // finished: a standard MP4 with its index (moov) before the media, no longer the fragmented file it was recorded as
    const bytes = readFileSync(file);
    expect(moovBeforeMdat(bytes)).toBe(true);
    expect(isFragmented(bytes)).toBe(false);
    expect(ready.sizeBytes).toBe(bytes.length);
    const info = probe(file);
    expect(Math.abs(info.durationSeconds - 10)).toBeLessThanOrEqual(1);
    expect(Math.abs((ready.durationSeconds as number) - info.durationSeconds)).toBeLessThan(0.1);
    // its thumbnail shows the room's tiles
    expect(ready.thumbnailUrl).toBe(`/v1/recordings/${mp4Id}/thumbnail`);
    const thumb = await fetch(`${t.baseUrl}${ready.thumbnailUrl as string}`, { headers: auth() });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await thumb.arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(tiles(pictureOf(jpeg), 2)).toEqual(['red', 'green']);
    expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:opus', 'video:h264']);
    expect(tiles(frameAt(file, info.durationSeconds / 2), 2)).toEqual(['red', 'green']);
    const pcm = audioOf(file, 2, 4);
    expect(toneLevel(pcm, 48000, 440)).toBeGreaterThan(0.05);
    expect(toneLevel(pcm, 48000, 660)).toBeGreaterThan(0.05);

    // Range requests
    const part = await fetch(`${t.baseUrl}/v1/recordings/${mp4Id}/file`, { headers: { ...auth(), range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const bad = await fetch(`${t.baseUrl}/v1/recordings/${mp4Id}/file`, { headers: { ...auth(), range: 'bytes=999999999-' } });
    expect(bad.status).toBe(416);
  });

  it('plays the finished MP4 in Chromium from the middle (the index is in front: a seek needs no full download)', async () => {
    expect(mp4Id).not.toBe('');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setExtraHTTPHeaders(auth()); // the file route is admin-only; the page's media requests carry it
      await page.goto(`${t.baseUrl}/`);
      const r = await page.evaluate(async (url) => {
        const v = document.createElement('video');
        v.muted = true;
        v.preload = 'metadata';
        document.body.append(v);
        const once = (ev: string) =>
          new Promise<void>((resolve, reject) => {
            v.addEventListener(ev, () => resolve(), { once: true });
            v.addEventListener('error', () => reject(new Error(`media error ${v.error?.code}: ${v.error?.message}`)), { once: true });
          });
        const meta = once('loadedmetadata');
        v.src = url;
        await meta;
        const duration = v.duration;
        const seeked = once('seeked');
        v.currentTime = duration / 2;
        await seeked;
        await v.play();
        await new Promise((res) => setTimeout(res, 1500));
        const c = document.createElement('canvas');
        c.width = v.videoWidth;
        c.height = v.videoHeight;
        const g = c.getContext('2d')!;
        g.drawImage(v, 0, 0);
        const px = (x: number, y: number) => Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data.slice(0, 3));
        return { duration, time: v.currentTime, width: v.videoWidth, left: px(0.25, 0.5), right: px(0.75, 0.5) };
      }, `/v1/recordings/${mp4Id}/file`);
      console.log(`Chromium played the recording from the middle: ${JSON.stringify(r)}`);
      expect(Math.abs(r.duration - 10)).toBeLessThanOrEqual(1);
      expect(r.time).toBeGreaterThan(r.duration / 2 + 0.3); // it plays on from where it was sought to
      expect(r.width).toBe(W);
      expect([nearestNamedColor(r.left as Rgb), nearestNamedColor(r.right as Rgb)]).toEqual(['red', 'green']);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('records WebM and audio-only at the same time', async () => {
    const webm = (await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'webm' })).json as Json;
    const audio = (await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { audioOnly: true })).json as Json;
    expect(audio).toMatchObject({ audioOnly: true, format: 'mp4' });
    await waitStatus(webm.id as string, 'active', 20_000);
    await waitStatus(audio.id as string, 'active', 20_000);
    await sleep(5000);
    for (const r of [webm, audio]) expect((await t.admin('POST', `/v1/recordings/${r.id}/stop`)).status).toBe(202);
    await waitStatus(webm.id as string, 'ready', 15_000);
    await waitStatus(audio.id as string, 'ready', 15_000);

    const w = await download(webm.id as string, 'webm');
    expect(w.contentType).toBe('video/webm');
    const wi = probe(w.file);
    expect(wi.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:opus', 'video:vp8']);
    expect(wi.durationSeconds).toBeGreaterThan(3.5);
    expect(tiles(frameAt(w.file, wi.durationSeconds / 2), 2)).toEqual(['red', 'green']);
    const index = matroskaTopLevel(readFileSync(w.file)).filter((e) => e === 'Cues' || e === 'Cluster');
    expect(index[0]).toBe('Cues'); // finished: the index before the clusters

    const a = await download(audio.id as string, 'mp4');
    expect(a.contentType).toBe('audio/mp4');
    expect(moovBeforeMdat(readFileSync(a.file))).toBe(true);
    const audioRec = await rec(audio.id as string);
    expect(audioRec).toMatchObject({ durationSeconds: expect.any(Number), sizeBytes: expect.any(Number) });
    expect(audioRec).not.toHaveProperty('thumbnailUrl');
    const none = await t.admin('GET', `/v1/recordings/${audio.id}/thumbnail`);
    expect(none.status).toBe(404);
    expect((none.json as { error: { code: string } }).error.code).toBe('not_found');
    const ai = probe(a.file);
    expect(ai.streams.map((s) => s.codec_type)).toEqual(['audio']);
    expect(ai.durationSeconds).toBeGreaterThan(3.5);
    const pcm = audioOf(a.file, 1, 2);
    expect(toneLevel(pcm, 48000, 440)).toBeGreaterThan(0.05);
    expect(toneLevel(pcm, 48000, 660)).toBeGreaterThan(0.05);
  });

  it('delivers every status change to a webhook that refused the first attempts, once each, in order, signed', async () => {
    await waitFor(() => hook.events.filter((e) => (e.body.recording as Json).id === mp4Id).length >= 6, 20_000, 'webhook events');
    const mine = hook.events.filter((e) => (e.body.recording as Json).id === mp4Id);
    expect(mine.map((e) => (e.body.recording as Json).status)).toEqual(['queued', 'starting', 'active', 'stopping', 'finishing', 'ready']);
    expect(mine.map((e) => e.body.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(mine.every((e) => e.signatureOk)).toBe(true);
    expect(hook.attempts()).toBeGreaterThan(hook.events.length); // the refused attempts happened
  });

  it('rejects bad input', async () => {
    expect((await t.admin('POST', '/v1/rooms/no-such-room/recordings', {})).status).toBe(404);
    const badFormat = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'avi' });
    expect(badFormat.status).toBe(400);
    expect((badFormat.json as { error: { code: string } }).error.code).toBe('validation_failed');
    expect((await t.admin('POST', `/v1/recordings/${mp4Id}/stop`)).status).toBe(409);
    for (const id of ['..%2F..%2Fetc%2Fpasswd', 'rec_..', '%2Fetc%2Fpasswd', 'rec_0000000000000000']) {
      expect((await t.admin('GET', `/v1/recordings/${id}`)).status).toBe(404);
      expect((await t.admin('GET', `/v1/recordings/${id}/file`)).status).toBe(404);
      expect((await t.admin('GET', `/v1/recordings/${id}/thumbnail`)).status).toBe(404);
    }
    expect((await t.request('GET', `/v1/recordings/${mp4Id}/thumbnail`)).status).toBe(401);
    expect((await t.request('GET', `/v1/recordings/${mp4Id}`)).status).toBe(401);
    expect((await t.request('POST', `/v1/rooms/${ROOM}/recordings`)).status).toBe(401);
    const list = (await t.admin('GET', `/v1/recordings?room=${ROOM}&status=ready&limit=2`)).json as { items: Json[]; nextCursor?: string };
    expect(list.items).toHaveLength(2);
    expect(list.nextCursor).toBeDefined();
    const next = (await t.admin('GET', `/v1/recordings?room=${ROOM}&status=ready&limit=2&cursor=${list.nextCursor}`)).json as { items: Json[] };
    expect(next.items.map((i) => i.id)).not.toContain(list.items[0].id);
    expect((await t.admin('GET', '/v1/recordings?status=bogus')).status).toBe(400);
  });

  it('a second recording of the same kind is a 409; DELETE stops and removes it', async () => {
    const first = (await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {})).json as Json;
    expect((await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {})).status).toBe(409);
    await waitStatus(first.id as string, 'active', 20_000);
    expect((await t.admin('DELETE', `/v1/recordings/${first.id}`)).status).toBe(204);
    expect((await t.admin('GET', `/v1/recordings/${first.id}`)).status).toBe(404);
    expect((await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {})).status).toBe(201); // the room is free again
  });
});

describe('recordings survive a worker killed with -9', () => {
  let t: TestApp;
  let worker: ChildProcess | undefined;
  let pub: Publisher | undefined;

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await pub?.close();
    await t?.close();
  });

  it('keeps a playable partial file and ends in a true state', async () => {
    t = await startTestApp({ RUN_WORKER: 'false', RECORDING_HEARTBEAT_TIMEOUT_SECONDS: '4' });
    const redisUrl = t.app.get<RedisInfo>(REDIS_INFO).url;
    worker = spawn(process.execPath, [path.join(__dirname, '../../dist/apps/worker/src/main.js')], {
      env: { ...process.env, REDIS_URL: redisUrl, MCU_SERVER_URL: t.baseUrl, RECORDINGS_DIR: t.config.recordingsDir, LOG_LEVEL: 'warn', MCU_API_KEY: '', MCU_API_SECRET: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await t.admin('POST', '/v1/rooms', { name: 'crash', width: W, height: H, fps: 15 });
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/crash/whip`, token: await t.token('crash', 'p'), color: NAMED_COLORS.blue as Rgb, width: 320, height: 180, fps: 15 });
    const r = (await t.admin('POST', '/v1/rooms/crash/recordings', {})).json as Json;
    await waitFor(async () => ((await t.admin('GET', `/v1/recordings/${r.id}`)).json as Json).status === 'active', 30_000, 'active');
    await sleep(4000);
    worker.kill('SIGKILL');
    const failed = await waitFor(async () => {
      const cur = (await t.admin('GET', `/v1/recordings/${r.id}`)).json as Json;
      return cur.status === 'failed' ? cur : undefined;
    }, 20_000, 'the recording to be marked failed');
    expect(failed.error).toMatch(/partial file is kept/);
    const res = await fetch(`${t.baseUrl}/v1/recordings/${r.id}/file`, { headers: { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    const file = path.join(tmpdir(), `${r.id}-partial.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const info = probe(file);
    expect(info.durationSeconds).toBeGreaterThan(2);
    expect(tiles(frameAt(file, 1), 1)).toEqual(['blue']);
  });
});

describe('recordings stop by themselves', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RECORDING_EMPTY_TIMEOUT_SECONDS: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const startRecording = async (room: string) => {
    await t.admin('POST', '/v1/rooms', { name: room, width: W, height: H, fps: 15 });
    const pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${room}/whip`, token: await t.token(room, 'p'), color: NAMED_COLORS.red as Rgb, width: 320, height: 180, fps: 15 });
    // the publisher's picture in the mix before the recording starts (on a slow machine its first keyframe can take a
    // second or two; until then the tile is the grey stand-in, which the checks below would read)
    await pub.connected();
    await sleep(1500);
    const r = (await t.admin('POST', `/v1/rooms/${room}/recordings`, {})).json as Json;
    await waitFor(async () => ((await t.admin('GET', `/v1/recordings/${r.id}`)).json as Json).status === 'active', 20_000, 'active');
    await sleep(2000);
    return { id: r.id as string, pub };
  };
  const waitReady = (id: string) =>
    waitFor(async () => {
      const cur = (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
      return cur.status === 'ready' ? cur : undefined;
    }, 20_000, `${id} to be ready`);

  it('when the room has been empty for the configured time, and when the room is deleted', async () => {
    const a = await startRecording('empties');
    expect(await a.pub.leave()).toBe(200);
    const emptied = await waitReady(a.id);
    expect(emptied.durationSeconds).toBeGreaterThan(1.5);

    const b = await startRecording('deleted');
    expect((await t.admin('DELETE', '/v1/rooms/deleted')).status).toBe(204);
    const deleted = await waitReady(b.id);
    expect(deleted.durationSeconds).toBeGreaterThan(1.5);
    await b.pub.close();
  });

  it('a recording whose ffmpeg is killed with -9 ends failed, with a playable partial file', async () => {
    const c = await startRecording('ffkill');
    // the recorder's ffmpeg is the only process whose arguments name this recording's file
    const pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
          return cmd[0].endsWith('ffmpeg') && cmd.some((a) => a.endsWith(`${c.id}.mp4`));
        } catch {
          return false;
        }
      });
    expect(pids).toHaveLength(1);
    process.kill(Number(pids[0]), 'SIGKILL');
    const failed = await waitFor(async () => {
      const cur = (await t.admin('GET', `/v1/recordings/${c.id}`)).json as Json;
      return cur.status === 'failed' ? cur : undefined;
    }, 15_000, 'the recording to fail');
    expect(failed.error).toMatch(/ffmpeg exited/);
    const res = await fetch(`${t.baseUrl}/v1/recordings/${c.id}/file`, { headers: { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    const file = path.join(tmpdir(), `${c.id}-ffkill.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const duration = probe(file).durationSeconds;
    expect(duration).toBeGreaterThan(1);
    expect(tiles(frameAt(file, Math.max(0.5, duration - 1)), 1)).toEqual(['red']);
    await c.pub.close();
  });
});

describe('recordings with an ffmpeg that has no ffprobe beside it (like ffmpeg-static)', () => {
  let t: TestApp | undefined;
  let pub: Publisher | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'ffmpeg-alone-'));
  /** The absolute path of `bin` on PATH. */
  const onPath = (bin: string) => {
    const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, bin)).find((f) => existsSync(f));
    if (!found) throw new Error(`${bin} is not on PATH`);
    return realpathSync(found);
  };
  afterAll(async () => {
    await pub?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures and finishes them with FFPROBE_PATH: the recording ends ready', async () => {
    symlinkSync(onPath('ffmpeg'), path.join(dir, 'ffmpeg'));
    const ffprobe = onPath('ffprobe');
    t = await startTestApp({ FFMPEG_PATH: path.join(dir, 'ffmpeg'), FFPROBE_PATH: ffprobe });
    expect(readdirSync(dir)).toEqual(['ffmpeg']);
    expect(((await t.request('GET', '/readyz')).json as { checks: { ffmpeg: Json } }).checks.ffmpeg).toMatchObject({ path: path.join(dir, 'ffmpeg'), ffprobe });
    await t.admin('POST', '/v1/rooms', { name: 'alone', width: W, height: H, fps: 15 });
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/alone/whip`, token: await t.token('alone', 'p'), color: NAMED_COLORS.blue as Rgb, width: 320, height: 180, fps: 15 });
    await pub.connected();
    const r = (await t.admin('POST', '/v1/rooms/alone/recordings', {})).json as Json;
    await waitFor(async () => ((await t!.admin('GET', `/v1/recordings/${r.id}`)).json as Json).status === 'active', 20_000, 'active');
    await sleep(2500);
    expect((await t.admin('POST', `/v1/recordings/${r.id}/stop`)).status).toBe(202);
    const done = await waitFor(async () => {
      const cur = (await t!.admin('GET', `/v1/recordings/${r.id}`)).json as Json;
      return cur.status === 'ready' || cur.status === 'failed' ? cur : undefined;
    }, 20_000, 'the recording to end');
    expect(done).toMatchObject({ status: 'ready' });
    expect(done).not.toHaveProperty('warning'); // finished (remuxed, probed) with these binaries too
    expect(done.durationSeconds).toBeGreaterThan(1.5);
    // the thumbnail's centre is the publisher's colour
    const thumb = await fetch(`${t.baseUrl}${done.thumbnailUrl as string}`, { headers: { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` } });
    const picture = pictureOf(Buffer.from(await thumb.arrayBuffer()));
    expect(nearestNamedColor(meanColor(picture, insetRect({ x: 0, y: 0, w: picture.width, h: picture.height }, 0.3)))).toBe('blue');
  });
});
