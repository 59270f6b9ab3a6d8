import { performance } from 'node:perf_hooks';
import { startsKeyframe } from '@app/media';
import type { RtpPacket } from 'werift';
import { type ColorName, toneLevel } from '../helpers/media-probe';
import { startShapedLink, type ShapedLink } from '../helpers/shaped-link';
import type { Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { openEvents, type EventsClient } from '../support/events-client';
import { saveFrame } from '../support/frames';
import { FOUR_PEOPLE, gridTileColors, publishTiles } from '../support/red-green-room';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Adaptive delivery on real media: a 4-publisher room, a viewer behind a shaped UDP link (token bucket + 250 ms
 * drop-tail queue, in this process) that offers transport-wide-cc like a browser, and a viewer on a good link. The weak
 * viewer must get a smooth, correct picture and its audio; the good one keeps full quality.
 */
const ROOM = 'adaptive';
const W = 1280;
const H = 720;
const PEOPLE = FOUR_PEOPLE;
const EXPECTED = PEOPLE.map((p) => p.color);

const tileColors = (frame: DecodedFrame) => gridTileColors(frame, PEOPLE.length, W, H);

type SubView = { id: string; rendition: string | null; targetRendition: string | null; estimateKbps?: number; stats: Record<string, number> };

// These measure a shaped link for tens of seconds on 2 cores shared with the load generators (and, in CI, nothing else
// to spare): a window the machine starved is measured once more before the test fails.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

describe('adaptive delivery: a viewer on a poor link gets a smooth, correct mix; the others keep full quality', () => {
  let t: TestApp;
  let events: EventsClient;
  const pubs: Publisher[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  let link: ShapedLink;
  let weak: Subscriber;
  let good: Subscriber;

  const subscriberView = async (identity: string): Promise<SubView | undefined> => {
    const r = await t.admin('GET', `/v1/rooms/${ROOM}`);
    const p = (r.json as { participants: Array<{ identity: string; subscriber?: SubView }> }).participants.find((x) => x.identity === identity);
    return p?.subscriber;
  };
  const waitRendition = (identity: string, ok: (r: string | null) => boolean, timeoutMs: number, what: string) => {
    let seen: unknown; // said when it fails (a CI run once timed out here): the subscriber's rendition, target, estimate
    return waitFor(async () => {
      const s = await subscriberView(identity);
      seen = s;
      return s && ok(s.rendition) && s.rendition === s.targetRendition ? s : undefined;
    }, timeoutMs, what, 250).catch((e: Error) => {
      throw new Error(`${e.message}; the subscriber: ${JSON.stringify(seen)}`);
    });
  };

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 30, videoBitrateKbps: 1500 })).status).toBe(201);
    events = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${encodeURIComponent(await t.token(ROOM, 'observer'))}`);
    pubs.push(...(await publishTiles(t, ROOM, PEOPLE)));
    link = await startShapedLink({ rateKbps: 400, queueMs: 250 });
    cleanups.push(() => link.close());
    weak = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'weak', { canPublish: false }), sdpTransform: link.sdpTransform, congestionControlFeedback: true });
    good = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'good', { canPublish: false }), congestionControlFeedback: true });
    cleanups.push(() => weak.close(), () => good.close());
    await Promise.all([weak.connected(), good.connected()]);
  }, 60_000);

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    for (const p of pubs) await p.close().catch(() => undefined);
    events?.close();
    await t?.close();
  });

  it('the answer takes up the offered transport-wide-cc, and the room shows each subscriber’s rendition', async () => {
    const answer = weak.pc.remoteDescription?.sdp ?? '';
    expect(answer).toMatch(/a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);
    expect(answer).toMatch(/a=rtcp-fb:\d+ transport-cc/);
    const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { renditions: Array<{ name: string }> };
    expect(room.renditions.map((r) => r.name)).toEqual(['high', 'medium', 'low']);
  });

  it('behind 400 kbps: ≥ 15 fps of the right picture, no freeze over 1 s, ≥ 90 % of the audio, ≤ 5 % dropped at the bottleneck; the good viewer keeps high', async () => {
    // the link as this test needs it, set here: jest retries a failed test after the rest of the block, whose tests
    // leave the link at other rates (a CI retry ran behind 6000 kbps and waited in vain for the viewer to go down)
    link.setLossPercent(0);
    link.setRateKbps(400);
    const settled = await waitRendition('weak', (r) => r === 'low' || r === 'medium', 15_000, 'the weak viewer to settle below high');
    await sleep(4000);
    const before = link.stats().downlink;
    const frames: ColorName[][] = [];
    const start = performance.now();
    while (performance.now() - start < 30_000) {
      await sleep(3000);
      const f = weak.latestFrame();
      if (f) frames.push(tileColors(f));
    }
    const after = link.stats().downlink;
    const q = weak.quality(30_000);
    const g = good.quality(30_000);
    const offered = after.offeredBytes - before.offeredBytes;
    const dropped = after.droppedQueueBytes + after.droppedLossBytes - (before.droppedQueueBytes + before.droppedLossBytes);
    const weakView = await subscriberView('weak');
    const goodView = await subscriberView('good');
    console.log(`400 kbps: weak ${JSON.stringify(q)} on ${weakView?.rendition} (settled ${settled.rendition}, estimate ${weakView?.estimateKbps} kbps); dropped ${((100 * dropped) / offered).toFixed(2)} % of ${Math.round((offered * 8) / 30_000)} kbps offered; good ${JSON.stringify(g)} on ${goodView?.rendition}`);
    const wrong = frames.filter((c) => c.join() !== EXPECTED.join());
    if (wrong.length) saveFrame(weak.latestFrame()!, 'adaptive-400-wrong-tiles');
    expect(wrong).toEqual([]);
    expect(frames.length).toBeGreaterThanOrEqual(9);
    expect(q.decodedFps).toBeGreaterThanOrEqual(15);
    expect(q.longestFreezeMs).toBeLessThanOrEqual(1000);
    expect(q.audioRatio).toBeGreaterThanOrEqual(0.9);
    expect(toneLevel(weak.audio(3), 48000, 440)).toBeGreaterThan(0.01);
    expect(dropped / offered).toBeLessThanOrEqual(0.05);
    expect(g.decodedFps).toBeGreaterThanOrEqual(25);
    expect(g.videoKbps).toBeGreaterThanOrEqual(1000);
    expect(goodView?.rendition).toBe('high');
    // /metrics: who is on which rendition, the switches, keyframes per rendition, the estimates
    const m = (await t.admin('GET', '/metrics')).text;
    const metric = (name: string, labels: string) => Number(m.match(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm'))?.[1]);
    expect(metric('mcu_subscribers_by_rendition', `room="${ROOM}",rendition="${weakView?.rendition}"`)).toBeGreaterThanOrEqual(1);
    expect(metric('mcu_subscribers_by_rendition', `room="${ROOM}",rendition="high"`)).toBeGreaterThanOrEqual(1);
    expect(metric('mcu_subscriber_switches_total', `room="${ROOM}",direction="down"`)).toBeGreaterThanOrEqual(1);
    expect(metric('mcu_keyframes_sent_total', `room="${ROOM}",rendition="high"`)).toBeGreaterThan(0);
    expect(metric('mcu_rendition_encoder_running', `room="${ROOM}",rendition="${weakView?.rendition}"`)).toBe(1);
    expect(metric('mcu_subscriber_estimate_kbps_bucket', `room="${ROOM}",le="4000"`)).toBeGreaterThanOrEqual(2); // the weak and the good viewer
    // the move down was told in the room's events, with the estimate
    const moved = events.all().find((e) => e.type === 'subscriberQualityChanged' && e.participant?.identity === 'weak' && e.rendition !== 'high');
    expect(moved).toMatchObject({ subscriberId: weakView?.id, estimateKbps: expect.any(Number), reason: expect.any(String) });
  }, 90_000);

  it('when the link recovers to 4000 kbps the weak viewer is back on high within 20 s', async () => {
    link.setRateKbps(4000);
    const at = performance.now();
    await waitRendition('weak', (r) => r === 'high', 20_000, 'the weak viewer back on high');
    console.log(`recovered to high in ${Math.round(performance.now() - at)} ms`);
    await weak.waitForFrame((f) => tileColors(f).join() === EXPECTED.join(), 3000);
  }, 30_000);

  it('at 150 kbps audio stays continuous and the video goes to low or pauses (told in events)', async () => {
    link.setRateKbps(150);
    const s = await waitRendition('weak', (r) => r === null || r === 'low', 10_000, 'the weak viewer on low or paused');
    await sleep(3000);
    await sleep(10_000);
    const q = weak.quality(10_000);
    console.log(`150 kbps: ${JSON.stringify(q)} on ${(await subscriberView('weak'))?.rendition ?? 'paused'} (first ${s.rendition})`);
    expect(q.audioRatio).toBeGreaterThanOrEqual(0.9);
    expect(toneLevel(weak.audio(3), 48000, 620)).toBeGreaterThan(0.01);
    expect(events.all().some((e) => e.type === 'subscriberQualityChanged' && e.participant?.identity === 'weak' && (e.rendition === null || e.rendition === 'low'))).toBe(true);
  }, 40_000);

  it('3 % random loss on a good link: no picture freeze over 1 s, no retransmission storm', async () => {
    // a good link first (the viewer climbs back from paused), then 3 % random loss on it
    link.setRateKbps(6000);
    await waitRendition('weak', (r) => r === 'high', 25_000, 'the weak viewer back on high on a good link');
    link.setLossPercent(3);
    await sleep(2000);
    const before = (await subscriberView('weak'))!.stats;
    await sleep(10_000);
    const after = (await subscriberView('weak'))!.stats;
    const q = weak.quality(10_000);
    const rtx = after.retransmissions - before.retransmissions;
    const sent = after.videoPacketsOut - before.videoPacketsOut;
    console.log(`3 % loss: ${JSON.stringify(q)}; ${rtx} retransmissions for ${sent} video packets`);
    expect(q.longestFreezeMs).toBeLessThanOrEqual(1000);
    expect(q.decodedFps).toBeGreaterThanOrEqual(20);
    expect(rtx).toBeGreaterThan(0); // losses were repaired…
    expect(rtx).toBeLessThan(sent * 0.15); // …without a storm
    expect((await subscriberView('weak'))?.rendition).toBe('high'); // random loss is not congestion
    link.setLossPercent(0);
  }, 50_000);

  it('a PLI gets a keyframe of high within 150 ms (median of 20); at most 2 per second however many ask', async () => {
    const track = good.pc.getTransceivers().find((x) => x.kind === 'video')!.receiver.tracks[0];
    let keyAt = 0;
    const sub = track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (!keyAt && rtp.payload.length && startsKeyframe(rtp.serialize(), 'h264')) keyAt = performance.now();
    });
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      await sleep(600);
      keyAt = 0;
      const asked = performance.now();
      good.requestKeyframe();
      await waitFor(() => keyAt || undefined, 2000, 'a keyframe after the PLI', 5);
      latencies.push(keyAt - asked);
    }
    sub.unSubscribe();
    latencies.sort((a, b) => a - b);
    const median = latencies[10];
    console.log(`PLI → keyframe (ms): median ${median.toFixed(1)}, all ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
    expect(median).toBeLessThanOrEqual(150);

    // asking 100 times a second for 3 s gets at most two keyframes per second (of high: the good viewer is on it, or back
    // on it within seconds if the shared machine's load made its estimate dip meanwhile)
    await waitFor(async () => ((await subscriberView('good'))?.rendition === 'high' ? true : undefined), 15_000, 'the good viewer on high', 250);
    const highStats = async () => ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { mixer: { renditions: Array<{ name: string; keyframesOut: number; keyframesRequested: number }> } }).mixer.renditions.find((r) => r.name === 'high')!;
    const k0 = await highStats();
    const stop = performance.now() + 3000;
    while (performance.now() < stop) {
      for (let i = 0; i < 5; i++) good.requestKeyframe();
      await sleep(50);
    }
    const k1 = await highStats();
    console.log(`keyframes of high under a PLI flood: ${k1.keyframesOut - k0.keyframesOut} for ${k1.keyframesRequested - k0.keyframesRequested} requests`);
    expect(k1.keyframesRequested - k0.keyframesRequested).toBeGreaterThan(100);
    expect(k1.keyframesOut - k0.keyframesOut).toBeLessThanOrEqual(7);
  }, 40_000);

  it('a plain WHEP viewer (no transport-wide feedback) behind 400 kbps is moved down by its receiver reports and NACKs', async () => {
    const plainLink = await startShapedLink({ rateKbps: 400, queueMs: 250 });
    cleanups.push(() => plainLink.close());
    const plain = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'plain', { canPublish: false }), sdpTransform: plainLink.sdpTransform });
    cleanups.push(() => plain.close());
    await plain.connected();
    expect(plain.pc.remoteDescription?.sdp).not.toMatch(/transport-cc/);
    const s = await waitRendition('plain', (r) => r === 'low' || r === null, 15_000, 'the plain viewer moved down');
    await sleep(8000);
    const q = plain.quality(6000);
    console.log(`plain viewer at 400 kbps: ${JSON.stringify(q)} on ${s.rendition}`);
    expect(q.audioRatio).toBeGreaterThanOrEqual(0.9);
    expect(q.decodedFps).toBeGreaterThanOrEqual(10);
  }, 40_000);
});
