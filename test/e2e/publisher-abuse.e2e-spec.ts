import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { gridLayout } from '@app/core';
import { insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type Rgb, type RgbFrame } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { createPeer, dropPeerSilently, opusCodec, signal, whenConnected } from '../helpers/webrtc-peer';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Issue 14, "publisher floods": one publisher flooding Opus packets is rate-limited before anything decodes them
 * (its packets are dropped and counted) and other rooms' mixes keep their frame rate; a video input over the size cap
 * (1920x1080 in area) is not decoded: its tile shows the participant's placeholder and the room goes on.
 */
const W = 320;
const H = 180;
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]); // one 20 ms CELT frame of silence

jest.setTimeout(120_000);

type RoomJson = { participants: Array<{ identity: string; publisher?: { stats: { packetsIn: number; packetsDropped?: number } } }> };

/** A WHIP publisher of audio only that, once connected, sends `perSecond` Opus packets a second. */
async function startFlooder(t: TestApp, room: string, perSecond: number): Promise<{ pc: RTCPeerConnection; sent: () => number; stop: () => Promise<void> }> {
  const pc = createPeer({ audio: [opusCodec()] });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendonly' });
  await signal(pc, `${t.baseUrl}/v1/rooms/${room}/whip`, await t.token(room, 'flooder'));
  await whenConnected(pc, 20_000);
  let seq = 0;
  let ts = 0;
  let sent = 0;
  const perTick = Math.ceil(perSecond / 100);
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: (ts += 960) >>> 0, ssrc: 0x1234, marker: false });
      track.writeRtp(new RtpPacket(header, OPUS_SILENCE).serialize());
      sent++;
    }
  }, 10);
  return {
    pc,
    sent: () => sent,
    stop: async () => {
      clearInterval(timer);
      await dropPeerSilently(pc);
    },
  };
}

const tileColors = (f: RgbFrame, n: number) =>
  gridLayout(n, W, H).map((r) => nearestNamedColor(meanColor(f, insetRect({ x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H }, 0.3))));

describe('publisher abuse', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  const viewers: Subscriber[] = [];
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    t = await startTestApp({ PUBLISHER_TIMEOUT_SECONDS: '30' });
  });
  afterAll(async () => {
    await Promise.allSettled(stops.map((s) => s()));
    await Promise.allSettled([...pubs.map((p) => p.close()), ...viewers.map((v) => v.close())]);
    await t?.close();
  });

  const room = async (name: string, fps: number) => expect((await t.admin('POST', '/v1/rooms', { name, width: W, height: H, fps })).status).toBe(201);
  const publish = async (name: string, identity: string, color: Rgb, size: { width: number; height: number; fps: number } = { width: W, height: H, fps: 15 }) => {
    const p = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${name}/whip`, token: await t.token(name, identity), color, ...size, gop: size.fps, audio: false });
    pubs.push(p);
    await p.connected();
    return p;
  };
  const watch = async (name: string) => {
    const v = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${name}/whep`, token: await t.token(name, `viewer-${viewers.length}`, { canPublish: false }) });
    viewers.push(v);
    await v.connected();
    return v;
  };

  it('a flood of audio packets is dropped before decoding; another room keeps ≥ 20 fps and the flooded room goes on', async () => {
    await room('calm', 25);
    await room('flooded', 15);
    await publish('calm', 'alice', NAMED_COLORS.green as Rgb, { width: W, height: H, fps: 25 });
    await publish('flooded', 'bob', NAMED_COLORS.blue as Rgb);
    const calm = await watch('calm');
    const flooded = await watch('flooded');
    await waitFor(() => calm.stats().framesDecoded > 25 && flooded.stats().framesDecoded > 10, 30_000, 'both viewers to decode');

    const flood = await startFlooder(t, 'flooded', 4000);
    stops.push(flood.stop);
    await sleep(3000); // the flood is on
    const window = 5000;
    const calmStart = calm.stats().framesDecoded;
    const floodedStart = flooded.stats().framesDecoded;
    await sleep(window);
    const calmFps = ((calm.stats().framesDecoded - calmStart) * 1000) / window;
    const floodedFps = ((flooded.stats().framesDecoded - floodedStart) * 1000) / window;
    const view = (await t.admin('GET', '/v1/rooms/flooded')).json as RoomJson;
    const stats = view.participants.find((p) => p.identity === 'flooder')?.publisher?.stats;
    await flood.stop();

    expect(flood.sent()).toBeGreaterThan(8 * 1000); // it did flood (≥ 1000/s)
    expect(stats?.packetsIn).toBeGreaterThan(1000);
    // most of the flood never reached a decoder: at most 400/s (plus a second of burst) pass
    expect(stats?.packetsDropped).toBeGreaterThan(stats!.packetsIn / 2);
    expect(calmFps).toBeGreaterThanOrEqual(20);
    expect(floodedFps).toBeGreaterThanOrEqual(8);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });

  it('a video input over 1920x1080 is not decoded: its tile is a placeholder, the other tile and the room go on', async () => {
    await room('huge', 15);
    await publish('huge', 'normal', NAMED_COLORS.green as Rgb);
    await publish('huge', 'oversized', NAMED_COLORS.red as Rgb, { width: 2560, height: 1440, fps: 5 });
    const v = await watch('huge');
    // join order: normal (left), oversized (right)
    const frame = await v.waitForFrame((f) => tileColors(f, 2)[0] === 'green', 20_000);
    expect(tileColors(frame, 2)[0]).toBe('green');
    await sleep(3000); // longer than a tile takes to become a placeholder
    const seen: string[] = [];
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const f = v.latestFrame();
      if (f) seen.push(tileColors(f, 2).join('/'));
      await sleep(250);
    }
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.filter((s) => s.split('/')[1] === 'red')).toEqual([]); // never the oversized picture
    expect(seen.filter((s) => s.split('/')[0] !== 'green')).toEqual([]);
    const before = v.stats().framesDecoded;
    await sleep(2000);
    expect(v.stats().framesDecoded - before).toBeGreaterThan(10); // the mix goes on
    const huge = (await t.admin('GET', '/v1/rooms/huge')).json as RoomJson;
    expect(huge.participants.map((p) => p.identity)).toEqual(expect.arrayContaining(['normal', 'oversized']));
  });
});
