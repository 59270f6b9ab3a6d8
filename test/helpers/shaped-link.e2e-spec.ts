/**
 * Proves the shaped link works end to end without the MCU: a synthetic publisher sends to the in-test stand-in relay,
 * and a WHEP subscriber watches through a ShapedLink (all on loopback): roomy at 3000 kbps, starved at 200 kbps.
 */
import { performance } from 'node:perf_hooks';
import { liveChildCount } from './ffmpeg-children';
import { cellRect, insetRect, meanColor, nearestNamedColor } from './media-probe';
import { STANDIN_TOKEN, startStandIn, type StandIn } from './relay-standin';
import { startShapedLink } from './shaped-link';
import { startPublisher } from './synthetic-publisher';
import { startSubscriber, type DecodedFrame } from './whep-subscriber';

const TOKEN = STANDIN_TOKEN;
const colorOf = (f: DecodedFrame) => nearestNamedColor(meanColor(f, insetRect(cellRect(1, 1, 0, f.width, f.height), 0.25)));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('a WHEP viewer behind a shaped link', () => {
  let standIn: StandIn | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await standIn?.close();
    standIn = undefined;
    expect(liveChildCount()).toBe(0);
  });

  it('at 3000 kbps: connects through the relay, decodes smoothly, and offers TWCC like a browser', async () => {
    standIn = await startStandIn('h264');
    const link = await startShapedLink({ rateKbps: 3000 });
    cleanups.push(() => link.close());
    const sub = await startSubscriber({
      whepUrl: standIn.whepUrl,
      token: TOKEN,
      sdpTransform: link.sdpTransform,
      congestionControlFeedback: true,
    });
    cleanups.push(() => sub.close());
    const offer = sub.pc.localDescription?.sdp ?? '';
    expect(offer).toMatch(/a=extmap:3 http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);
    expect(offer).toMatch(/a=rtcp-fb:102 transport-cc/);
    expect(offer).toMatch(/a=rtcp-fb:102 goog-remb/);

    const pub = await startPublisher({ whipUrl: standIn.whipUrl, token: TOKEN, color: [255, 0, 0], videoCodec: 'h264', movingBar: true });
    cleanups.push(() => pub.close());
    await Promise.all([pub.connected(), sub.connected()]);
    await sub.waitForFrame((f) => colorOf(f) === 'red', 8000);
    await sleep(2500);

    // A 2 s window on a loaded 2-core machine can hold one descheduled stretch (CI once read a 500+ ms freeze with the
    // link idle): up to three more windows are looked at before the last one is asserted.
    const smooth = (x: ReturnType<typeof sub.quality>) => x.decodedFps > 20 && x.longestFreezeMs < 500 && x.audioRatio > 0.85 && x.videoKbps > 20;
    let q = sub.quality(2000);
    for (let i = 0; i < 3 && !smooth(q); i++) {
      console.log(`3000 kbps window ${i + 1} not smooth: ${JSON.stringify(q)}`);
      await sleep(2000);
      q = sub.quality(2000);
    }
    const s = link.stats();
    console.log(`3000 kbps: ${JSON.stringify({ quality: q, link: s })}`);
    // The relay carried the whole session: ICE, DTLS and RTCP up, media down.
    expect(s.server).toBeDefined();
    expect(s.viewer?.port).toBeGreaterThan(0);
    expect(s.uplinkPackets).toBeGreaterThan(10);
    expect(s.downlink.forwardedPackets).toBeGreaterThan(200);
    expect(s.downlink.droppedQueuePackets).toBe(0);
    expect(sub.stats().video.packets).toBeGreaterThan(50); // ~1 packet per flat 640x360 frame
    expect(q.decodedFps).toBeGreaterThan(20);
    expect(q.longestFreezeMs).toBeLessThan(500);
    expect(q.audioRatio).toBeGreaterThan(0.85);
    expect(q.videoKbps).toBeGreaterThan(20);
    expect(sub.stats().errors).toEqual([]);
    expect(await sub.leave()).toBe(200);
  });

  it('at 200 kbps with a ~0.8 Mbps stream: the bottleneck drops most of it and the viewer decodes few frames', async () => {
    standIn = await startStandIn('h264');
    const link = await startShapedLink({ rateKbps: 3000 });
    cleanups.push(() => link.close());
    const sub = await startSubscriber({ whepUrl: standIn.whepUrl, token: TOKEN, sdpTransform: link.sdpTransform });
    cleanups.push(() => sub.close());
    // Every frame a 720p keyframe: ~700 kbps of video (the synthetic picture is flat, so only that makes it big).
    const pub = await startPublisher({
      whipUrl: standIn.whipUrl,
      token: TOKEN,
      color: [200, 30, 90],
      videoCodec: 'h264',
      width: 1280,
      height: 720,
      gop: 1,
      movingBar: true,
    });
    cleanups.push(() => pub.close());
    await sub.waitForFrame(() => true, 8000);
    await sleep(2000);
    // the reference before the link narrows: decoding a 720p keyframe every frame in this (loaded) process, a single
    // 1 s window once read 7 fps in CI; up to three more 2 s windows are looked at, as for the roomy link above
    let roomy = sub.quality(2000);
    for (let i = 0; i < 3 && roomy.decodedFps <= 20; i++) {
      console.log(`roomy window ${i + 1} below 20 fps: ${JSON.stringify(roomy)}`);
      await sleep(2000);
      roomy = sub.quality(2000);
    }

    link.setRateKbps(200);
    const before = link.stats().downlink;
    const t0 = performance.now();
    await sleep(4000);
    const starved = sub.quality(3000); // the last 3 s, after the queue filled
    const after = link.stats().downlink;
    const secs = (performance.now() - t0) / 1000;
    const offeredKbps = ((after.offeredBytes - before.offeredBytes) * 8) / 1000 / secs;
    const forwardedKbps = ((after.forwardedBytes - before.forwardedBytes) * 8) / 1000 / secs;
    const dropped = after.droppedQueuePackets - before.droppedQueuePackets;
    console.log(`200 kbps: ${JSON.stringify({ roomy, starved, offeredKbps, forwardedKbps, dropped, link: after })}`);

    expect(roomy.decodedFps).toBeGreaterThan(20);
    expect(offeredKbps).toBeGreaterThan(500);
    // The link delivers its rate (plus at most the 250 ms queue that was already there) and drops the rest.
    expect(forwardedKbps).toBeLessThan(200 + 100);
    expect(forwardedKbps).toBeGreaterThan(150);
    expect(dropped).toBeGreaterThan(100);
    expect(after.maxQueueDelayMs).toBeGreaterThan(150);
    expect(starved.videoKbps).toBeLessThan(200);
    expect(starved.decodedFps).toBeLessThan(roomy.decodedFps / 2);
    expect(starved.audioRatio).toBeLessThan(0.95);
    expect(starved.nacksSent).toBeGreaterThan(0);
  });
});
