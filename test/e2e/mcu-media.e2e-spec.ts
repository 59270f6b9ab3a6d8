import { performance } from 'node:perf_hooks';
import { gridLayout, type Rect } from '@app/core';
import { type ColorName, insetRect, meanColor, nearestNamedColor, NAMED_COLORS, toneLevel, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { saveFrame } from '../support/frames';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * The MCU core end to end: real werift publishers (solid colours + tones) → WHIP → mixer (ffmpeg) → WHEP → a real
 * subscriber that decodes the composite and the audio, asserting on what it sees and hears.
 */
const ROOM = 'e2e-mix';
const W = 1280;
const H = 720;
const DECODE_W = 320;
const DECODE_H = 180;
const PEOPLE: Array<{ identity: string; color: ColorName; tone: number }> = [
  { identity: 'alice', color: 'red', tone: 440 },
  { identity: 'bob', color: 'green', tone: 620 },
  { identity: 'carol', color: 'blue', tone: 850 },
  { identity: 'dave', color: 'yellow', tone: 1170 },
  { identity: 'erin', color: 'magenta', tone: 1500 },
];
const SR = 48000;

/** The colour seen in the middle of each tile, for the publishers in join order. */
function tileColors(frame: DecodedFrame, count: number): ColorName[] {
  const sx = frame.width / W;
  const sy = frame.height / H;
  return gridLayout(count, W, H).map((r: Rect) => {
    const scaled = { x: r.x * sx, y: r.y * sy, w: r.w * sx, h: r.h * sy };
    return nearestNamedColor(meanColor(frame, insetRect(scaled, 0.3)));
  });
}

const showsTiles = (expected: ColorName[]) => (f: DecodedFrame) => tileColors(f, expected.length).join() === expected.join();

/** Waits for the subscriber to show these tiles; on timeout the error says what it showed instead. */
async function waitForTiles(sub: Subscriber, expected: ColorName[], timeoutMs: number, extra: (f: DecodedFrame) => boolean = () => true) {
  try {
    return await sub.waitForFrame((f) => extra(f) && showsTiles(expected)(f), timeoutMs);
  } catch (e) {
    const f = sub.latestFrame();
    const seen = f ? [2, 3, 4, 5, 6].map((n) => `${n}: ${tileColors(f, n).join(',')}`).join(' | ') : 'no frame';
    if (f) saveFrame(f, `mix-mismatch-${expected.join('-')}`);
    throw new Error(`${(e as Error).message}; expected ${expected.join(',')}; latest frame read as ${seen}`);
  }
}

describe('MCU core: WHIP in, one composite + mix out over WHEP', () => {
  let t: TestApp;
  const pubs = new Map<string, Publisher>();
  let me: Subscriber; // alice's own subscription: mix-minus
  let viewer: Subscriber; // a pure viewer: hears everyone

  const publish = async (p: (typeof PEOPLE)[number]) => {
    const token = await t.token(ROOM, p.identity);
    const pub = await startPublisher({
      whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`,
      token,
      color: NAMED_COLORS[p.color] as Rgb,
      toneHz: p.tone,
      toneAmplitude: 0.15,
      width: 320,
      height: 180,
      fps: 15,
      gop: 15,
    });
    pubs.set(p.identity, pub);
    return pub;
  };

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 30, videoBitrateKbps: 1500 });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await Promise.allSettled([...pubs.values()].map((p) => p.close()));
    await Promise.allSettled([me, viewer].filter(Boolean).map((s) => s.close()));
    await t.close();
  });

  it('an empty room sends a neutral background, not nothing', async () => {
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }), decodeWidth: DECODE_W, decodeHeight: DECODE_H });
    const f = await viewer.waitForFrame(() => true, 15_000);
    const c = meanColor(f, { x: 0, y: 0, w: f.width, h: f.height });
    expect(Math.max(...c) - Math.min(...c)).toBeLessThan(30); // grey-ish, not a colour
    expect(viewer.videoCodec()).toBe('video/H264');
  });

  it('composites four publishers in join order and mixes their tones, leaving out the subscriber’s own voice', async () => {
    for (const p of PEOPLE.slice(0, 4)) await publish(p);
    me = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'alice'), decodeWidth: DECODE_W, decodeHeight: DECODE_H });
    const expected = PEOPLE.slice(0, 4).map((p) => p.color);
    await waitForTiles(me, expected, 20_000);
    await waitForTiles(viewer, expected, 5_000);

    // Collect audio with all four publishing. A 2 s window on a loaded 2-core machine can hold a gap (CI once read one
    // tone at 0.040 against 0.05), so up to four windows are looked at; the last one's levels are asserted.
    const [a, ...others] = PEOPLE.slice(0, 4).map((p) => p.tone);
    const read = () => {
      const mine = me.audio(2);
      const all = viewer.audio(2);
      const minus = others.map((hz) => toneLevel(mine, SR, hz));
      return { minus, own: toneLevel(mine, SR, a), heard: [a, ...others].map((hz) => toneLevel(all, SR, hz)) };
    };
    let lv = read();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 2500));
      lv = read();
      if (Math.min(...lv.minus, ...lv.heard) > 0.05 && lv.own < 0.1 * Math.min(...lv.minus)) break;
      console.log(`tone levels in window ${i + 1}: ${JSON.stringify(lv)}`);
    }
    for (const level of lv.minus) expect(level).toBeGreaterThan(0.05);
    expect(lv.own).toBeLessThan(0.1 * Math.min(...lv.minus));
    for (const level of lv.heard) expect(level).toBeGreaterThan(0.05);

    const room = await t.admin('GET', `/v1/rooms/${ROOM}`);
    const participants = (room.json as { participants: Array<{ identity: string; publisher?: unknown; subscriber?: unknown }> }).participants;
    expect(participants.filter((p) => p.publisher).map((p) => p.identity)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(participants.find((p) => p.identity === 'alice')).toMatchObject({ publisher: { video: true, audio: true, videoCodec: 'vp8' }, subscriber: {} });
  });

  it('follows a fifth join, a leave and layout changes within 2 s with one encoder process throughout, the stream continuous', async () => {
    const before = me.stats();
    // the RTP checks below cannot see an encoder restart (the mixer rewrites SSRC/seq/ts across one): its pid and the
    // restart counter can
    const encoderPid = t.rooms.get(ROOM).mixerPids()?.encoder;
    expect(encoderPid).toEqual(expect.any(Number));
    const restartsBefore = t.rooms.get(ROOM).mixerState().stats?.encoderRestarts;
    expect(restartsBefore).toBe(0);
    let t0 = performance.now();
    await publish(PEOPLE[4]);
    await waitForTiles(me, PEOPLE.map((p) => p.color), 6_000);
    const joinMs = performance.now() - t0;

    t0 = performance.now();
    expect(await pubs.get('bob')!.leave()).toBe(200);
    pubs.delete('bob');
    const remaining = PEOPLE.filter((p) => p.identity !== 'bob').map((p) => p.color);
    await waitForTiles(me, remaining, 6_000);
    const leaveMs = performance.now() - t0;
    console.log(`layout followed a join in ${joinMs.toFixed(0)} ms and a leave in ${leaveMs.toFixed(0)} ms`);
    expect(joinMs).toBeLessThan(2000 + 1500); // 2 s target + slack for a loaded CI machine (the bench reports the real figure)
    expect(leaveMs).toBeLessThan(2000 + 1500);

    const after = me.stats();
    expect(after.video.packets).toBeGreaterThan(before.video.packets);
    for (const s of [after.video, after.audio]) {
      expect(s.seqJumpsBack).toBe(0);
      expect(s.tsJumpsBack).toBe(0);
      expect(s.ssrcs).toHaveLength(1);
    }
    expect(viewer.stats().video.seqJumpsBack).toBe(0);

    for (const layout of ['speaker', 'grid']) expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout })).status).toBe(200);
    await waitForTiles(me, remaining, 6_000); // back on the grid
    const frames = me.latestFrame()!.index;
    await waitFor(() => me.latestFrame()!.index > frames + 10, 5_000, 'frames after the layout changes');
    expect(t.rooms.get(ROOM).mixerState().stats?.encoderRestarts).toBe(0);
    expect(t.rooms.get(ROOM).mixerPids()?.encoder).toBe(encoderPid);
    expect(me.stats().video.ssrcs).toHaveLength(1);
  });

  it('bad requests get their status and do not disturb the running room', async () => {
    const token = await t.token(ROOM, 'mallory');
    const whip = (headers: Record<string, string>, body: string) => t.request('POST', `/v1/rooms/${ROOM}/whip`, { headers, body });
    expect((await whip({ 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, 'v=0\r\ngarbage\r\n')).status).toBe(400);
    expect((await whip({ 'content-type': 'text/plain', authorization: `Bearer ${token}` }, 'v=0')).status).toBe(415);
    expect((await whip({ 'content-type': 'application/sdp', authorization: 'Bearer x.y.z' }, 'v=0')).status).toBe(401);
    expect((await whip({ 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, 'v=0\r\n' + 'a=x\r\n'.repeat(30_000))).status).toBe(413);
    const noVideoCodec = [
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 AA', 'a=ice-ufrag:u', 'a=ice-pwd:p',
      'm=video 9 UDP/TLS/RTP/SAVPF 98', 'a=sendonly', 'a=rtpmap:98 VP9/90000',
    ].join('\r\n');
    const r = await whip({ 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, noVideoCodec + '\r\n');
    expect(r.status).toBe(400);
    expect((r.json as { error: { code: string } }).error.code).toBe('codec_unsupported');

    const frameBefore = me.latestFrame()!.index;
    const remaining = PEOPLE.filter((p) => p.identity !== 'bob').map((p) => p.color);
    const f = await waitForTiles(me, remaining, 5_000, (x) => x.index > frameBefore + 10);
    expect(f).toBeDefined();
    const room = await t.admin('GET', `/v1/rooms/${ROOM}`);
    expect((room.json as { numPublishers: number }).numPublishers).toBe(4);
  });

  it('removes a publisher that vanishes without DELETE within 10 s', async () => {
    const t0 = Date.now();
    await pubs.get('dave')!.vanish();
    pubs.delete('dave');
    await waitFor(
      async () => {
        const r = await t.admin('GET', `/v1/rooms/${ROOM}`);
        return !(r.json as { participants: Array<{ identity: string }> }).participants.some((p) => p.identity === 'dave');
      },
      10_000,
      'dave to be removed',
      250,
    );
    console.log(`vanished publisher removed after ${Date.now() - t0} ms`);
    await waitForTiles(me, ['red', 'blue', 'magenta'], 5_000);
  });

  it('DELETE of the room disconnects everyone', async () => {
    expect((await t.admin('DELETE', `/v1/rooms/${ROOM}`)).status).toBe(204);
    // The server closed its side: media stops flowing to the subscriber at once.
    await new Promise((r) => setTimeout(r, 500));
    const packets = me.stats().video.packets;
    await new Promise((r) => setTimeout(r, 1500));
    expect(me.stats().video.packets).toBe(packets);
    expect((await t.admin('GET', `/v1/rooms/${ROOM}`)).status).toBe(404);
    expect(t.rooms.list()).toHaveLength(0);
  });
});
