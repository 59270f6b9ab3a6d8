/**
 * Proves the media test helpers work without the MCU: a tiny WHIP/WHEP stand-in (node:http + werift) relays the
 * publisher's RTP to every subscriber unchanged, so the subscriber must see the publisher's colour and tone.
 */
import { performance } from 'node:perf_hooks';
import { liveChildCount } from './ffmpeg-children';
import { cellRect, dominantTones, insetRect, meanColor, nearestNamedColor, toneLevel } from './media-probe';
import { startPublisher } from './synthetic-publisher';
import { startSubscriber, type DecodedFrame } from './whep-subscriber';
import { STANDIN_TOKEN, startStandIn, type StandIn } from './relay-standin';

const TOKEN = STANDIN_TOKEN;

const center = (f: DecodedFrame) => insetRect(cellRect(1, 1, 0, f.width, f.height), 0.25);
const colorOf = (f: DecodedFrame) => nearestNamedColor(meanColor(f, center(f)));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('media test helpers against an in-test relay', () => {
  let standIn: StandIn | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await standIn?.close();
    standIn = undefined;
    expect(liveChildCount()).toBe(0);
  });

  it.each(['vp8', 'h264'] as const)('relays colour, tone, colour flips and continuous RTP (%s)', async (codec) => {
    standIn = await startStandIn(codec);
    const sub = await startSubscriber({ whepUrl: standIn.whepUrl, token: TOKEN });
    cleanups.push(() => sub.close());
    const pub = await startPublisher({
      whipUrl: standIn.whipUrl,
      token: TOKEN,
      color: [255, 0, 0],
      toneHz: 440,
      videoCodec: codec,
      movingBar: true,
    });
    cleanups.push(() => pub.close());
    expect(pub.resourceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/resource\/\d+$/);
    await Promise.all([pub.connected(), sub.connected()]);
    expect(sub.videoCodec().toLowerCase()).toBe(`video/${codec}`);

    const red = await sub.waitForFrame((f) => colorOf(f) === 'red', 8000);
    expect(red.width).toBe(320);
    expect(red.height).toBe(180);

    // Let at least 1.2 s of audio arrive, then look at the last second.
    const audioStart = performance.now();
    while (sub.audio(1.2).length < 1.2 * 48000 && performance.now() - audioStart < 5000) await sleep(100);
    const pcm = sub.audio(1);
    expect(pcm.length).toBe(48000);
    expect(toneLevel(pcm, 48000, 440)).toBeGreaterThan(0.15);
    expect(toneLevel(pcm, 48000, 1000)).toBeLessThan(0.02);
    expect(dominantTones(pcm, 48000, [440, 660, 1000], 0.05)).toEqual([440]);

    for (const [rgb, name] of [
      [[0, 0, 255], 'blue'],
      [[0, 255, 0], 'green'],
    ] as const) {
      const t0 = pub.setColor([rgb[0], rgb[1], rgb[2]]);
      const f = await sub.waitForFrame((fr) => fr.at > t0 && colorOf(fr) === name, 3000);
      // Informational: flip-to-decoded latency through werift twice plus encode and decode.
      console.log(`${codec}: ${name} visible ${(f.at - t0).toFixed(0)} ms after setColor`);
    }

    const s = sub.stats();
    for (const track of [s.video, s.audio]) {
      expect(track.packets).toBeGreaterThan(20);
      expect(track.ssrcs).toHaveLength(1);
      expect(track.seqJumpsBack).toBe(0);
      expect(track.tsJumpsBack).toBe(0);
    }
    expect(s.video.mimeType.toLowerCase()).toBe(`video/${codec}`);
    expect(s.audio.mimeType.toLowerCase()).toBe('audio/opus');
    expect(s.assembler.keyframesEmitted).toBeGreaterThan(0);
    expect(s.errors).toEqual([]);
    expect(pub.stats().errors).toEqual([]);

    expect(await pub.leave()).toBe(200);
    expect(await sub.leave()).toBe(200);
    expect(standIn.deletes).toHaveLength(2);
    expect(liveChildCount()).toBe(0);
  });

  it('survives 5% loss: NACK retransmissions are not counted as discontinuities', async () => {
    standIn = await startStandIn('h264', 5);
    const sub = await startSubscriber({ whepUrl: standIn.whepUrl, token: TOKEN });
    cleanups.push(() => sub.close());
    const pub = await startPublisher({
      whipUrl: standIn.whipUrl,
      token: TOKEN,
      color: [255, 0, 0],
      toneHz: 660,
      videoCodec: 'h264',
      movingBar: true,
      gop: 60,
    });
    cleanups.push(() => pub.close());
    await sub.waitForFrame((f) => colorOf(f) === 'red', 8000);
    for (const [rgb, name] of [
      [[0, 0, 255], 'blue'],
      [[255, 0, 255], 'magenta'],
      [[0, 255, 255], 'cyan'],
    ] as const) {
      await sleep(300);
      const t0 = pub.setColor([rgb[0], rgb[1], rgb[2]]);
      await sub.waitForFrame((fr) => fr.at > t0 && colorOf(fr) === name, 3000);
    }
    expect(dominantTones(sub.audio(0.5), 48000, [440, 660, 1000], 0.05)).toEqual([660]);
    const s = sub.stats();
    console.log(`5% loss, h264: ${JSON.stringify({ video: s.video, assembler: s.assembler, plis: s.plisSent })}`);
    for (const track of [s.video, s.audio]) {
      expect(track.seqJumpsBack).toBe(0);
      expect(track.tsJumpsBack).toBe(0);
      expect(track.ssrcs).toHaveLength(1);
    }
  });

  it('reports a rejected WHIP POST with status and body', async () => {
    standIn = await startStandIn('vp8');
    await expect(startPublisher({ whipUrl: standIn.whipUrl, token: 'wrong' })).rejects.toThrow(/401.*bad token/);
    await expect(startSubscriber({ whepUrl: standIn.whepUrl, token: 'wrong' })).rejects.toThrow(/401.*bad token/);
  });

  it('close() right after start leaves no child, socket or timer behind', async () => {
    standIn = await startStandIn('vp8');
    const sub = await startSubscriber({ whepUrl: standIn.whepUrl, token: TOKEN });
    const pub = await startPublisher({ whipUrl: standIn.whipUrl, token: TOKEN });
    await Promise.all([pub.close(), sub.close()]);
    await sleep(200); // media start racing with close must not spawn anything
    expect(liveChildCount()).toBe(0);
    expect(pub.stats().framesWritten).toBe(0);
  });

  it('vanish() stops media without a DELETE', async () => {
    standIn = await startStandIn('vp8');
    const sub = await startSubscriber({ whepUrl: standIn.whepUrl, token: TOKEN });
    cleanups.push(() => sub.close());
    const pub = await startPublisher({ whipUrl: standIn.whipUrl, token: TOKEN, color: [255, 255, 0] });
    cleanups.push(() => pub.close());
    await sub.waitForFrame((f) => colorOf(f) === 'yellow', 8000);
    await pub.vanish();
    expect(liveChildCount()).toBe(1); // only the subscriber's decoder is left
    const before = sub.stats().video.packets;
    await sleep(500);
    expect(sub.stats().video.packets - before).toBeLessThanOrEqual(2);
    expect(standIn.deletes).toEqual([]);
  });
});
