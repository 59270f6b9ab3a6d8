import { gridLayout } from '@app/core';
import { insetRect, meanColor, nearestNamedColor, type ColorName, type Rgb, NAMED_COLORS } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { saveFrame } from '../support/frames';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';

/** Codec choices (H.264 and VP8 in, VP8 out as a room option) and ffmpeg supervision (kill -9, stream goes on). */
const ROOM = 'e2e-vp8';
const W = 640;
const H = 360;

const tiles = (f: DecodedFrame, n: number): ColorName[] =>
  gridLayout(n, W, H).map((r) => {
    const s = { x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H };
    return nearestNamedColor(meanColor(f, insetRect(s, 0.3)));
  });

describe('codecs and supervision', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  let sub: Subscriber;

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 25, videoCodec: 'vp8', videoBitrateKbps: 600 })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.allSettled(pubs.map((p) => p.close()));
    await sub?.close();
    await t.close();
  });

  it('mixes an H.264 and a VP8 publisher into a VP8 room', async () => {
    for (const [identity, codec, color] of [
      ['h264-cam', 'h264', 'cyan'],
      ['vp8-cam', 'vp8', 'red'],
    ] as const) {
      // each publisher connected before the next; on this shared machine a werift handshake now and then stays
      // `connecting` (a session of the same identity then replaces it, as a WHIP client would re-POST)
      for (let attempt = 1; ; attempt++) {
        const pub = await startPublisher({
          whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`,
          token: await t.token(ROOM, identity),
          videoCodec: codec,
          color: NAMED_COLORS[color] as Rgb,
          audio: false,
          width: 320,
          height: 180,
          fps: 15,
        });
        try {
          await pub.connected();
          pubs.push(pub);
          break;
        } catch (e) {
          await pub.close();
          if (attempt >= 2) throw e;
        }
      }
    }
    sub = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'watcher', { canPublish: false }) });
    await sub.waitForFrame((f) => tiles(f, 2).join() === 'cyan,red', 20_000).catch((e: Error) => {
      const f = sub.latestFrame();
      if (f) saveFrame(f, 'vp8-room-mismatch');
      throw new Error(`${e.message}; tiles read as ${f ? tiles(f, 2).join() : 'no frame'}`);
    });
    expect(sub.videoCodec()).toBe('video/VP8');
    const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { participants: Array<{ identity: string; publisher: { videoCodec: string; audio: boolean } }> };
    expect(room.participants.map((p) => [p.identity, p.publisher?.videoCodec, p.publisher?.audio])).toEqual([
      ['h264-cam', 'h264', false],
      ['vp8-cam', 'vp8', false],
      ['watcher', undefined, undefined],
    ]);
  });

  it('restarts a killed encoder and a killed decoder while the subscriber’s stream stays continuous', async () => {
    const room = t.rooms.get(ROOM);
    const before = room.mixerPids()!;
    expect(before.encoder).toBeDefined();
    process.kill(before.encoder!, 'SIGKILL');
    const decoderId = Object.keys(before.decoders)[0];
    process.kill(before.decoders[decoderId]!, 'SIGKILL');
    await waitFor(() => {
      const p = room.mixerPids()!;
      return p.encoder && p.encoder !== before.encoder && p.decoders[decoderId] && p.decoders[decoderId] !== before.decoders[decoderId];
    }, 10_000, 'ffmpeg children to be restarted');
    const idx = sub.latestFrame()!.index;
    await sub.waitForFrame((f) => f.index > idx + 20 && tiles(f, 2).join() === 'cyan,red', 15_000);
    const s = sub.stats().video;
    expect(s.seqJumpsBack).toBe(0);
    expect(s.tsJumpsBack).toBe(0);
    expect(s.ssrcs).toHaveLength(1);
    const stats = room.mixerState().stats!;
    expect(stats.encoderRestarts).toBeGreaterThanOrEqual(1);
    expect(stats.decoderRestarts).toBeGreaterThanOrEqual(1);
  });
});
