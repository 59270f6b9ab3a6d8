import { gridLayout } from '@app/core';
import { insetRect, meanColor, nearestNamedColor } from '../helpers/media-probe';
import { startTestApp, sleep, type TestApp, waitFor } from '../support/app-harness';
import { liveChildCount } from '../helpers/ffmpeg-children';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';

const ROOM = 'metrics-room';
const METRICS_TOKEN = 'scraper-token-0123456789';

/** `name{a="b",c="d"} value` lines of the Prometheus text format → samples. */
function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

describe('Prometheus /metrics', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  let sub: Subscriber | undefined;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN });
  });
  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    await sub?.close();
    await t?.close();
  });

  it('refuses unauthenticated and wrongly authenticated scrapes', async () => {
    const anon = await t.request('GET', '/metrics');
    expect(anon.status).toBe(401);
    expect((anon.json as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await t.request('GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await t.request('GET', '/metrics', { headers: { authorization: `Basic ${Buffer.from('devkey:nope').toString('base64')}` } })).status).toBe(401);
  });

  it('after 2 publishers and a subscriber have run, shows the right gauges and growing counters', async () => {
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 640, height: 360, fps: 15 })).status).toBe(201);
    for (const [identity, color] of [['red', [255, 0, 0]], ['green', [0, 255, 0]]] as const) {
      // each connected before the next; re-POSTed once if werift's handshake stays "connecting" (seen now and then on
      // this shared machine, as in mcu-codecs)
      for (let attempt = 1; ; attempt++) {
        const pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, identity), color: [...color], width: 320, height: 180, fps: 15, connectTimeoutMs: 10_000 });
        pubs.push(pub);
        const ok = await pub.connected().then(() => true, (e: Error) => (attempt >= 2 ? Promise.reject(e) : false));
        if (ok) break;
      }
    }
    sub = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }) });
    // the mix shows both publishers (red | green) and the room lists them: the room has really run
    await sub.waitForFrame(
      (f) => gridLayout(2, 640, 360).map((r) => nearestNamedColor(meanColor(f, insetRect({ x: r.x / 2, y: r.y / 2, w: r.w / 2, h: r.h / 2 }, 0.3)))).join() === 'red,green',
      30_000,
    );
    await waitFor(async () => ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { numPublishers: number }).numPublishers === 2, 10_000, 'two publishers');

    const scrape = async (auth: Record<string, string>) => {
      const r = await t.request('GET', '/metrics', { headers: auth });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      return parseMetrics(r.text);
    };
    const one = (samples: ReturnType<typeof parseMetrics>, name: string, labels: Record<string, string> = {}) => {
      const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`);
      return found[0].value;
    };
    // the metrics token and the admin credentials both work; two scrapes a second apart give the mixer's fps
    await scrape({ authorization: `Bearer ${METRICS_TOKEN}` });
    await sleep(1200);
    const basic = { authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` };
    const room = { room: ROOM };
    // mcu_mixer_fps is the last second's rate: a second the shared machine starved (CI once read 4.9) is read again
    let m = await scrape(basic);
    for (let i = 0; i < 4 && !(one(m, 'mcu_mixer_fps', room) > 5); i++) {
      await sleep(1000);
      m = await scrape(basic);
    }

    expect(one(m, 'mcu_rooms')).toBe(1);
    expect(one(m, 'mcu_publishers', room)).toBe(2);
    expect(one(m, 'mcu_subscribers', room)).toBe(1);
    expect(one(m, 'mcu_participants', room)).toBe(3);
    expect(one(m, 'mcu_mixer_target_fps', room)).toBe(15);
    const fps = one(m, 'mcu_mixer_fps', room);
    expect(fps).toBeGreaterThan(5); // the clock runs (not a timing assertion: the shared machine may be slow)
    expect(fps).toBeLessThan(20);
    for (const name of ['mcu_mixer_frames_composed_total', 'mcu_rtp_packets_in_total', 'mcu_rtp_bytes_in_total', 'mcu_rtp_bytes_out_total', 'mcu_mixer_rtp_packets_total', 'mcu_pli_sent_total']) {
      expect([name, one(m, name, room)]).toEqual([name, expect.any(Number)]);
      expect(one(m, name, room)).toBeGreaterThan(0);
    }
    expect(one(m, 'mcu_rtp_packets_out_total', { room: ROOM, kind: 'video' })).toBeGreaterThan(0);
    expect(one(m, 'mcu_rtp_packets_out_total', { room: ROOM, kind: 'audio' })).toBeGreaterThan(0);
    expect(one(m, 'mcu_mixer_frames_dropped_total', room)).toBeGreaterThanOrEqual(0);
    expect(one(m, 'mcu_mixer_encoder_restarts_total', room)).toBe(0);
    // 2 decoders + one encoder per running rendition (high, and the one the subscriber is on or just left); the test's
    // own ffmpeg children (publishers' encoders, the subscriber's decoder) share this process as parent and are counted too
    const encoders = ['high', 'medium', 'low'].filter((r) => one(m, 'mcu_rendition_encoder_running', { room: ROOM, rendition: r }) === 1).length;
    expect(encoders).toBeGreaterThanOrEqual(1);
    expect(one(m, 'mcu_rendition_encoder_running', { room: ROOM, rendition: 'high' })).toBe(1);
    // the count and the renditions' state are two reads a moment apart (an encoder or a decoder may be starting or
    // stopping between them, and the mirror of the worker's state is refreshed once a second): scraped until they agree
    let last = '';
    await waitFor(async () => {
      const s = await scrape({ authorization: `Bearer ${METRICS_TOKEN}` });
      const running = ['high', 'medium', 'low'].filter((r) => one(s, 'mcu_rendition_encoder_running', { room: ROOM, rendition: r }) === 1).length;
      const expected = 2 + running + liveChildCount();
      last = `mcu_ffmpeg_processes ${one(s, 'mcu_ffmpeg_processes')}, expected 2 decoders + ${running} encoders + ${liveChildCount()} of the test's own`;
      return one(s, 'mcu_ffmpeg_processes') === expected ? true : undefined;
    }, 6000, 'the ffmpeg count to match', 500).catch((e: Error) => {
      throw new Error(`${e.message}: ${last}`);
    });
    // recordings and the recording queue (with the in-process worker)
    expect(one(m, 'mcu_recordings', { status: 'active' })).toBe(0);
    expect(one(m, 'mcu_queue_jobs', { queue: 'mcu-recordings', state: 'waiting' })).toBe(0);
    expect(one(m, 'mcu_queue_workers', { queue: 'mcu-recordings' })).toBeGreaterThanOrEqual(1);
    expect(one(m, 'mcu_queue_jobs_finished_total', { queue: 'mcu-recordings', outcome: 'completed' })).toBe(0);
    // the process itself
    expect(one(m, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(one(m, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);

    // counters keep growing while the room runs
    await sleep(1000);
    const later = await scrape({ authorization: `Bearer ${METRICS_TOKEN}` });
    expect(one(later, 'mcu_rtp_packets_in_total', room)).toBeGreaterThan(one(m, 'mcu_rtp_packets_in_total', room));
    expect(one(later, 'mcu_rtp_bytes_out_total', room)).toBeGreaterThan(one(m, 'mcu_rtp_bytes_out_total', room));
  });

  it('counts a recording job: active while it runs, then finished with a duration', async () => {
    const rec = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'mp4' });
    expect(rec.status).toBe(201);
    const id = (rec.json as { id: string }).id;
    const auth = { authorization: `Bearer ${METRICS_TOKEN}` };
    const value = (text: string, name: string, labels: Record<string, string>) =>
      parseMetrics(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    for (let i = 0; i < 100; i++) {
      const r = await t.request('GET', '/metrics', { headers: auth });
      if (value(r.text, 'mcu_recordings', { status: 'active' }) === 1) break;
      await sleep(100);
    }
    const during = (await t.request('GET', '/metrics', { headers: auth })).text;
    expect(value(during, 'mcu_recordings', { status: 'active' })).toBe(1);
    expect(value(during, 'mcu_queue_jobs', { queue: 'mcu-recordings', state: 'active' })).toBe(1);
    await sleep(1500);
    expect((await t.admin('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    for (let i = 0; i < 100; i++) {
      if (((await t.admin('GET', `/v1/recordings/${id}`)).json as { status: string }).status === 'ready') break;
      await sleep(100);
    }
    // two scrapes at once (an HA Prometheus pair) see the same counts: nothing is added twice
    await waitFor(async () => value((await t.request('GET', '/metrics', { headers: auth })).text, 'mcu_queue_jobs_finished_total', { queue: 'mcu-recordings', outcome: 'completed' }) === 1, 5000, 'the job to finish');
    const both = await Promise.all([0, 1].map(async () => (await t.request('GET', '/metrics', { headers: auth })).text));
    for (const after of both) {
      expect(value(after, 'mcu_recordings', { status: 'active' })).toBe(0);
      expect(value(after, 'mcu_queue_jobs_finished_total', { queue: 'mcu-recordings', outcome: 'completed' })).toBe(1);
      expect(value(after, 'mcu_queue_job_duration_seconds_count', { queue: 'mcu-recordings', outcome: 'completed' })).toBe(1);
      expect(value(after, 'mcu_queue_job_duration_seconds_sum', { queue: 'mcu-recordings', outcome: 'completed' })).toBeGreaterThan(1);
    }
  });
});
