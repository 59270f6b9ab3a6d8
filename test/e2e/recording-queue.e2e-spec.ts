import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { toneLevel } from '../helpers/media-probe';
import type { Publisher } from '../helpers/synthetic-publisher';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { audioOf, frameAt, probe } from '../support/media-file';
import { gridTileColors, publishRedGreen } from '../support/red-green-room';

/**
 * Promised by the README, untested until now (issue 14): recordings beyond RECORDING_CONCURRENCY wait `queued` and
 * start when a slot frees, and Matroska (`format: "mkv"`) records end to end: a playable file of the room's tiles and
 * tones, served as video/x-matroska.
 */
type Json = Record<string, unknown>;
const W = 640;
const H = 360;

describe('recordings beyond the concurrency wait in the queue; MKV end to end', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  const rec = async (id: string) => (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
  const waitStatus = (id: string, status: string, timeoutMs: number) => waitFor(async () => ((await rec(id)).status === status ? rec(id) : undefined), timeoutMs, `${id} to be ${status}`, 200);

  beforeAll(async () => {
    t = await startTestApp({ RECORDING_CONCURRENCY: '1' });
    for (const room of ['queue-a', 'queue-b']) {
      expect((await t.admin('POST', '/v1/rooms', { name: room, width: W, height: H, fps: 15, videoBitrateKbps: 600 })).status).toBe(201);
      pubs.push(...(await publishRedGreen(t, room)));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    await t?.close();
  });

  it('a second recording waits queued while the only slot records, then starts; the MKV one plays', async () => {
    const a = (await t.admin('POST', '/v1/rooms/queue-a/recordings', { format: 'mkv' })).json as Json;
    expect(a).toMatchObject({ format: 'mkv', status: 'queued' });
    await waitStatus(a.id as string, 'active', 20_000);
    const b = (await t.admin('POST', '/v1/rooms/queue-b/recordings', {})).json as Json;
    expect(b).toMatchObject({ status: 'queued' });
    // the slot is taken: it stays queued for as long as the first records
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      expect((await rec(b.id as string)).status).toBe('queued');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await t.admin('POST', `/v1/recordings/${a.id as string}/stop`)).status).toBe(202);
    const readyA = await waitStatus(a.id as string, 'ready', 20_000);
    await waitStatus(b.id as string, 'active', 20_000);

    const res = await fetch(`${t.baseUrl}/v1/recordings/${a.id as string}/file`, { headers: { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/x-matroska');
    const file = path.join(tmpdir(), `${a.id as string}.mkv`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const info = probe(file);
    expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:opus', 'video:h264']);
    expect(info.durationSeconds).toBeGreaterThan(4);
    expect(Math.abs((readyA.durationSeconds as number) - info.durationSeconds)).toBeLessThan(0.5);
    const f = frameAt(file, info.durationSeconds / 2);
    expect(gridTileColors({ ...f, at: 0, index: 0 }, 2, W, H)).toEqual(['red', 'green']);
    const pcm = audioOf(file, 1, 3);
    expect(toneLevel(pcm, 48000, 440)).toBeGreaterThan(0.05);
    expect(toneLevel(pcm, 48000, 660)).toBeGreaterThan(0.05);

    expect((await t.admin('POST', `/v1/recordings/${b.id as string}/stop`)).status).toBe(202);
    await waitStatus(b.id as string, 'ready', 20_000);
  }, 120_000);
});
