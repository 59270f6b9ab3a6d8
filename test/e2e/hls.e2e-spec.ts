import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import { insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type Rgb, type RgbFrame, toneLevel } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { publishRedGreen } from '../support/red-green-room';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { audioOf, frameAt, probe } from '../support/media-file';
import { playlistSegments } from '@app/media';

/**
 * HLS end to end: the real app, real werift publishers, the server's HLS writer; the test is a plain HTTP client that
 * fetches the playlist and segments with a room token, decodes them (tiles and tones), watches the live window stay
 * bounded while old segment files disappear from disk, and sees the output stop by itself when nobody watches.
 */
const ROOM = 'hls-room';
const W = 640;
const H = 360;
const LIST = 4;
const IDLE_S = 5;

const tiles = (f: RgbFrame, n: number) =>
  gridLayout(n, W, H).map((r) => nearestNamedColor(meanColor(f, insetRect({ x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H }, 0.3))));
const segmentsOf = playlistSegments;

describe('HLS', () => {
  let t: TestApp;
  let tmp: string;
  let token: string;
  const pubs: Publisher[] = [];
  const hlsDir = () => path.join(t.config.dataDir, 'hls', ROOM);
  const tsFiles = () => (existsSync(hlsDir()) ? readdirSync(hlsDir()).filter((f) => f.endsWith('.ts')) : []);
  const get = (p: string) => fetch(`${t.baseUrl}${p}`);
  const playlist = async () => {
    const r = await get(`/v1/rooms/${ROOM}/hls/index.m3u8?token=${token}`);
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mcu-hls-'));
    t = await startTestApp({ HLS_IDLE_TIMEOUT_SECONDS: String(IDLE_S), HLS_LIST_SIZE: String(LIST), HLS_SEGMENT_SECONDS: '1' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 15, videoBitrateKbps: 800 })).status).toBe(201);
    expect((await t.admin('POST', '/v1/rooms', { name: 'other-room' })).status).toBe(201);
    pubs.push(...(await publishRedGreen(t, ROOM)));
    token = await t.token(ROOM, 'viewer', { canPublish: false });
  });

  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('needs a subscriber token for that room, and serves only playlist and segment names', async () => {
    const url = `/v1/rooms/${ROOM}/hls/index.m3u8`;
    const none = await get(url);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await get(`${url}?token=not.a.jwt`)).status).toBe(401);
    expect((await get(`${url}?token=${await t.token('other-room', 'x')}`)).status).toBe(403);
    expect((await get(`${url}?token=${await t.token(ROOM, 'pub-only', { canSubscribe: false })}`)).status).toBe(403);
    for (const bad of ['index.m3u8.tmp', '..%2F..%2Fredis%2Fappendonly.aof', 'x.mp4', 'index.M3U8']) {
      expect([bad, (await get(`/v1/rooms/${ROOM}/hls/${bad}?token=${token}`)).status]).toEqual([bad, 404]);
    }
    // fetch itself turns %2e%2e into .. (so this reaches the room route, which takes admin credentials or a room
    // admin token: a viewer's token lacks the grant): never a file
    expect((await get(`/v1/rooms/${ROOM}/hls/%2e%2e?token=${token}`)).status).toBe(403);
    expect(tsFiles()).toEqual([]); // nothing was started by refused requests
    expect((await get(`/v1/rooms/no-such-room/hls/index.m3u8?token=${token}`)).status).toBe(403);
  });

  it('serves a live playlist whose segments decode to the mix (tiles and tones), with a bounded window', async () => {
    // the first viewer request starts the output
    const first = await waitFor(async () => {
      const p = await playlist();
      return p.status === 200 && segmentsOf(p.text).length >= 3 ? p : undefined;
    }, 30_000, 'a playlist with 3 segments', 500);
    expect(first.headers.get('content-type')).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(first.headers.get('cache-control')).toMatch(/no-cache/);
    expect(first.text).toMatch(/^#EXTM3U/);
    const segs = segmentsOf(first.text);
    for (const s of segs) expect(s).toMatch(new RegExp(`^[a-z0-9]+_\\d+\\.ts\\?token=${token.replace(/\./g, '\\.')}$`));

    // Decode the newest three segments as one TS stream.
    const parts: Buffer[] = [];
    for (const s of segs.slice(-3)) {
      const r = await get(`/v1/rooms/${ROOM}/hls/${s}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('video/mp2t');
      expect(r.headers.get('cache-control')).toMatch(/max-age=\d+/);
      parts.push(Buffer.from(await r.arrayBuffer()));
    }
    const file = path.join(tmp, 'three.ts');
    writeFileSync(file, Buffer.concat(parts));
    const info = probe(file);
    expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
    expect(info.durationSeconds).toBeGreaterThan(1.5);
    expect(tiles(frameAt(file, 1), 2)).toEqual(['red', 'green']);
    const pcm = audioOf(file, 0.5, 1.5);
    expect(toneLevel(pcm, 48000, 440)).toBeGreaterThan(0.03);
    expect(toneLevel(pcm, 48000, 660)).toBeGreaterThan(0.03);
    expect(toneLevel(pcm, 48000, 1000)).toBeLessThan(0.01);

    // The window stays bounded and old segments leave the disk (and the server).
    const oldest = segs[0].split('?')[0];
    const seen = new Set<string>();
    for (let i = 0; i < LIST + 5; i++) {
      const p = await playlist();
      expect(p.status).toBe(200);
      const now = segmentsOf(p.text).map((s) => s.split('?')[0]);
      now.forEach((s) => seen.add(s));
      expect(now.length).toBeLessThanOrEqual(LIST);
      expect(tsFiles().length).toBeLessThanOrEqual(LIST + 2);
      await sleep(1000);
    }
    expect(seen.size).toBeGreaterThan(LIST + 2); // it moved on
    expect(tsFiles()).not.toContain(oldest);
    expect((await get(`/v1/rooms/${ROOM}/hls/${oldest}?token=${token}`)).status).toBe(404);
  });

  it('stops by itself after HLS_IDLE_TIMEOUT_SECONDS without viewers, and starts again on request', async () => {
    expect(existsSync(hlsDir())).toBe(true);
    await waitFor(() => !existsSync(hlsDir()), (IDLE_S + 6) * 1000, 'the HLS directory to be removed when idle', 250);
    expect(((await t.admin('GET', `/v1/rooms/${ROOM}/hls`)).json as { running: boolean }).running).toBe(false);
    // explicitly started by the admin API
    const started = await t.admin('POST', `/v1/rooms/${ROOM}/hls`);
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ room: ROOM, running: true, playlist: `/v1/rooms/${ROOM}/hls/index.m3u8` });
    await waitFor(() => tsFiles().length > 0, 15_000, 'segments after POST …/hls');
    // a deleted room takes its HLS (and files) with it
    expect((await t.admin('DELETE', `/v1/rooms/${ROOM}`)).status).toBe(204);
    await waitFor(() => !existsSync(hlsDir()), 10_000, 'the HLS directory to be removed with the room', 250);
  });
});

describe('HLS with a low rendition', () => {
  let t: TestApp;
  let pub: Publisher | undefined;
  let tmp: string;
  afterAll(async () => {
    await pub?.close();
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists a 640x360 rendition beside the copied one in a master playlist, both playable', async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mcu-hls-low-'));
    t = await startTestApp({ HLS_LOW_RENDITION: 'true' });
    await t.admin('POST', '/v1/rooms', { name: 'low', width: 1280, height: 720, fps: 15, videoBitrateKbps: 1200 });
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/low/whip`, token: await t.token('low', 'p'), color: NAMED_COLORS.blue as Rgb, toneHz: 550, toneAmplitude: 0.2, width: 320, height: 180, fps: 15 });
    await pub.connected();
    const token = await t.token('low', 'viewer', { canPublish: false });
    const master = await waitFor(async () => {
      const r = await fetch(`${t.baseUrl}/v1/rooms/low/hls/index.m3u8?token=${token}`);
      const text = await r.text();
      return r.status === 200 && text.includes('#EXT-X-STREAM-INF') ? text : undefined;
    }, 30_000, 'a master playlist', 500);
    const variants = segmentsOf(master);
    expect(variants.map((v) => v.split('?')[0]).sort()).toEqual(['hi.m3u8', 'lo.m3u8']);
    expect(master).toMatch(/RESOLUTION=640x360/);
    for (const [variant, width] of [
      ['lo.m3u8', 640],
      ['hi.m3u8', 1280],
    ] as const) {
      const uri = variants.find((v) => v.startsWith(variant))!;
      const file = path.join(tmp, `${variant}.ts`);
      // the newest segment, until it shows the publisher (the first ones can hold the grey stand-in of a tile whose
      // first keyframe had not arrived yet on a slow machine)
      let colour = '';
      await waitFor(async () => {
        const r = await fetch(`${t.baseUrl}/v1/rooms/low/hls/${uri}`);
        const text = r.status === 200 ? await r.text() : '';
        if (segmentsOf(text).length < 2) return undefined;
        const res = await fetch(`${t.baseUrl}/v1/rooms/low/hls/${segmentsOf(text).slice(-1)[0]}`);
        expect(res.status).toBe(200);
        writeFileSync(file, Buffer.from(await res.arrayBuffer()));
        // a single short segment: decode its first frame (seeking inside ~10 KB of TS overshoots)
        colour = nearestNamedColor(meanColor(frameAt(file, 0), { x: 40, y: 30, w: 240, h: 120 }));
        return colour === 'blue' ? true : undefined;
      }, 20_000, `${variant}: a segment showing the blue publisher (last read: ${colour || 'none'})`, 500).catch((e: Error) => {
        throw new Error(`${e.message}; last colour ${colour}`);
      });
      const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width', '-of', 'csv=p=0', file], { encoding: 'utf8' });
      expect([variant, Number(r.stdout.trim().split(/\s+/)[0])]).toEqual([variant, width]);
    }
  });
});
