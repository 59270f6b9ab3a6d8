import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import { freePort } from '@app/jobs';
import { insetRect, meanColor, nearestNamedColor, type RgbFrame } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { sleep, waitFor, within } from '../support/app-harness';
import { frameAt, probe } from '../support/media-file';

/**
 * SIGTERM to the real server process (built, as `npm start` runs it) while it records: it stops taking joins, lets the
 * recording finish its file, drains the worker and exits within SHUTDOWN_TIMEOUT_SECONDS; the file plays to its end.
 */
const KEY = 'shutdownkey';
const SECRET = 'shutdown-secret-0123456789';
const BOUND_S = 20;
const ROOM = 'sigterm-room';
const W = 640;
const H = 360;
const tiles = (f: RgbFrame, n: number) =>
  gridLayout(n, W, H).map((r) => nearestNamedColor(meanColor(f, insetRect({ x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H }, 0.3))));

describe('graceful shutdown (SIGTERM)', () => {
  let server: ChildProcess | undefined;
  let dataDir = '';
  const pubs: Publisher[] = [];
  const output: string[] = [];

  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes the recording (playable file), refuses joins meanwhile, and exits within the bound', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mcu-sigterm-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const inherited = process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, RUN_WORKER: 'true' } : {};
    server = spawn(process.execPath, [path.join(__dirname, '../../dist/apps/server/src/main.js')], {
      env: { ...process.env, ...inherited, PORT: String(port), HOST: '127.0.0.1', MCU_API_KEY: KEY, MCU_API_SECRET: SECRET, DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_SECONDS: String(BOUND_S), LOG_LEVEL: 'log', LOG_FORMAT: 'json', MAX_WORKER_ELU: '1', MAX_WORKER_LAG_MS: '60000', RTMP_ALLOW_PRIVATE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    server.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => server!.once('exit', (code, signal) => r({ code, signal, at: Date.now() })));
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok, 30_000, 'the server to start');

    const auth = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`, 'content-type': 'application/json' };
    const api = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(`${base}${p}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
    };
    expect((await api('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 15 })).status).toBe(201);
    for (const [identity, color] of [['red', [255, 0, 0]], ['green', [0, 255, 0]]] as const) {
      const token = ((await api('POST', `/v1/rooms/${ROOM}/tokens`, { identity })).json.token as string) ?? '';
      pubs.push(await startPublisher({ whipUrl: `${base}/v1/rooms/${ROOM}/whip`, token, color: [...color], width: 320, height: 180, fps: 15 }));
    }
    const created = await api('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'mp4' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await waitFor(async () => (await api('GET', `/v1/recordings/${id}`)).json.status === 'active', 30_000, 'the recording to be active');
    await sleep(4000);

    const lateToken = ((await api('POST', `/v1/rooms/${ROOM}/tokens`, { identity: 'late-publisher' })).json as { token: string }).token;
    const killedAt = Date.now();
    server.kill('SIGTERM');
    // while it drains, joins are refused with 503 shutting_down and /readyz says so
    let refused: { status: number; code?: string } | undefined;
    let readyz: { status: number; body?: Record<string, unknown> } | undefined;
    let whipRefused: number | undefined;
    let livestreamRefused: number | undefined;
    while (Date.now() - killedAt < 5000 && !(refused && readyz && whipRefused && livestreamRefused)) {
      try {
        const whip = await fetch(`${base}/v1/rooms/${ROOM}/whip`, { method: 'POST', body: 'v=0\r\n', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${lateToken}` } });
        if (whip.status === 503) whipRefused = 503;
        const ls = await api('POST', `/v1/rooms/${ROOM}/livestreams`, { url: 'rtmp://127.0.0.1:1/live/x' });
        if (ls.status === 503) livestreamRefused = 503;
        const tok = await api('POST', `/v1/rooms/${ROOM}/tokens`, { identity: 'latecomer' });
        if (tok.status !== 201) refused ??= { status: tok.status, code: (tok.json.error as { code?: string } | undefined)?.code };
        const r = await fetch(`${base}/readyz`);
        if (r.status !== 200) readyz ??= { status: r.status, body: (await r.json()) as Record<string, unknown> };
      } catch {
        break; // the HTTP server closed
      }
    }
    const exit = await within(exited, (BOUND_S + 5) * 1000, undefined);
    if (!exit) console.log(output.join(''));
    expect(exit).toBeDefined();
    console.log(`SIGTERM → exit in ${exit!.at - killedAt} ms (code ${exit!.code}, signal ${exit!.signal})`);
    expect(exit!.at - killedAt).toBeLessThanOrEqual(BOUND_S * 1000 + 1000);
    expect(exit!.code).toBe(0);
    expect(refused).toEqual({ status: 503, code: 'shutting_down' });
    expect(whipRefused).toBe(503);
    expect(livestreamRefused).toBe(503);
    expect(readyz?.status).toBe(503);
    expect(readyz?.body).toMatchObject({ status: 'shutting_down', checks: { accepting: { ok: false } } });
    // structured logs: every stdout line is a JSON object; ids are fields
    const lines = output.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.context === 'Shutdown' && String(l.msg).includes('recordings finished'))).toMatchObject({ level: 'info', service: 'mcu-server' });
    expect(lines.some((l) => l.recording === id && l.room === ROOM)).toBe(true);
    expect(lines.find((l) => l.msg === 'request completed' && (l.req as { method?: string } | undefined)?.method === 'POST' && String((l.req as { url: string }).url).endsWith('/whip'))).toMatchObject({
      room: ROOM,
      res: { statusCode: 201 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines)).not.toContain(SECRET); // Authorization headers are redacted

    // the file is complete: probes, decodes end to end without errors, shows both tiles in the middle and at the end
    const file = path.join(dataDir, 'recordings', `${id}.mp4`);
    const info = probe(file);
    expect(info.durationSeconds).toBeGreaterThan(3);
    expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:opus', 'video:h264']);
    const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    expect(decode.status).toBe(0);
    expect(decode.stderr.trim()).toBe('');
    expect(tiles(frameAt(file, info.durationSeconds / 2), 2)).toEqual(['red', 'green']);
    expect(tiles(frameAt(file, Math.max(0, info.durationSeconds - 0.7)), 2)).toEqual(['red', 'green']);
  }, 150_000);
});
