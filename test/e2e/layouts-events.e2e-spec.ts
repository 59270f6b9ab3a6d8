import { signRoomToken } from '@app/core';
import { WebSocket } from 'ws';
import { type ColorName, insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type Rect, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { saveFrame } from '../support/frames';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { type EventsClient, openEvents } from '../support/events-client';

/**
 * Issue 6 end to end: active speaker from real audio levels, speaker / presentation / single layouts changed at run
 * time and checked on the decoded mix, a screen share as a second video, a placeholder tile for an audio-only
 * participant, and the events those produce, in order, over the WebSocket gateway.
 */
const ROOM = 'e2e-layouts';
const W = 1280;
const H = 720;

/** Mean colour of a rectangle given in mix pixels, read off a decoded frame of any size. */
function colorAt(f: DecodedFrame, r: Rect): ColorName {
  const sx = f.width / W;
  const sy = f.height / H;
  return nearestNamedColor(meanColor(f, insetRect({ x: r.x * sx, y: r.y * sy, w: r.w * sx, h: r.h * sy }, 0.25)));
}

async function waitForMix(sub: Subscriber, what: string, pred: (f: DecodedFrame) => boolean, timeoutMs = 15_000): Promise<DecodedFrame> {
  try {
    return await sub.waitForFrame(pred, timeoutMs);
  } catch (e) {
    const f = sub.latestFrame();
    if (f) saveFrame(f, `layouts-${what.replace(/\W+/g, '-')}`);
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

describe('layouts, active speaker and the events gateway', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  let viewer: Subscriber;
  let events: EventsClient;

  const publish = async (identity: string, o: { color?: ColorName; amplitude?: number; video?: boolean; source?: 'screen'; audio?: boolean; displayName?: string }) => {
    const token = await t.token(ROOM, identity, o.displayName ? { displayName: o.displayName } : {});
    const pub = await startPublisher({
      whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip${o.source ? `?source=${o.source}` : ''}`,
      token,
      color: NAMED_COLORS[o.color ?? 'red'] as Rgb,
      toneHz: 440,
      toneAmplitude: o.amplitude ?? 0,
      video: o.video ?? true,
      audio: o.audio ?? true,
      width: 320,
      height: 180,
      fps: 15,
      gop: 15,
    });
    pubs.push(pub);
    await pub.connected();
    return pub;
  };

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 30, displayNames: false })).status).toBe(201);
    events = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${await t.token(ROOM, 'dashboard', { canPublish: false })}`);
  });

  afterAll(async () => {
    events?.close();
    await viewer?.close();
    await Promise.all(pubs.map((p) => p.close()));
    await t?.close();
  });

  it('sends a snapshot of the room on connect', async () => {
    const snap = await events.next((e) => e.type === 'snapshot');
    expect(snap).toMatchObject({ type: 'snapshot', room: ROOM, layout: 'grid', pinnedIdentity: null, activeSpeaker: null, participants: [] });
    expect(typeof snap.seq).toBe('number');
  });

  it('the loud publisher becomes the active speaker, and speaker layout shows it large', async () => {
    await publish('quiet', { color: 'green', amplitude: 0.004 });
    await publish('loud', { color: 'red', amplitude: 0.3 });
    await publish('silent', { color: 'blue', amplitude: 0 });
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }) });
    await viewer.connected();
    const active = await events.next((e) => e.type === 'activeSpeakerChanged', 10_000);
    expect(active.identity).toBe('loud');

    const patched = await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'speaker' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ layout: 'speaker', mixer: { activeSpeaker: 'loud' } });
    const changed = await events.next((e) => e.type === 'layoutChanged' && e.layout === 'speaker');
    expect(changed.tiles[0]).toMatchObject({ identity: 'loud', main: true, x: 0, y: 0, w: W, h: 576 });
    // the main tile (top four fifths) is red; the strip below holds green and blue
    const main: Rect = { x: 0, y: 0, w: W, h: 576 };
    const strip = changed.tiles.slice(1) as Array<Rect & { identity: string }>;
    expect(strip.map((s) => s.identity).sort()).toEqual(['quiet', 'silent']);
    const frame = await waitForMix(viewer, 'speaker layout', (f) => colorAt(f, main) === 'red' && strip.every((s) => colorAt(f, s) === (s.identity === 'quiet' ? 'green' : 'blue')));
    saveFrame(frame, 'layout-speaker');
  });

  it('presentation with a pinned identity shows their screen share large', async () => {
    await publish('quiet', { color: 'magenta', source: 'screen', audio: false });
    const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { participants: Array<{ identity: string; screen?: unknown }> };
    expect(room.participants.find((p) => p.identity === 'quiet')?.screen).toBeDefined();
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'presentation', pinnedIdentity: 'quiet' })).status).toBe(200);
    const changed = await events.next((e) => e.type === 'layoutChanged' && e.layout === 'presentation');
    expect(changed).toMatchObject({ pinnedIdentity: 'quiet' });
    expect(changed.tiles[0]).toMatchObject({ identity: 'quiet', kind: 'screen', main: true, x: 0, y: 0, w: 1024, h: H });
    const frame = await waitForMix(viewer, 'presentation layout', (f) => colorAt(f, { x: 0, y: 0, w: 1024, h: H }) === 'magenta');
    saveFrame(frame, 'layout-presentation');
    // the column on the right holds the three cameras
    const column = changed.tiles.slice(1) as Array<Rect & { identity: string; kind: string }>;
    expect(column.map((c) => `${c.identity}/${c.kind}`).sort()).toEqual(['loud/camera', 'quiet/camera', 'silent/camera']);
    for (const c of column) expect(c.x).toBeGreaterThanOrEqual(1024);
  });

  it('single shows only the active speaker; an audio-only participant gets a placeholder tile with their name', async () => {
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'single', pinnedIdentity: null })).status).toBe(200);
    await waitForMix(viewer, 'single layout', (f) => colorAt(f, { x: 0, y: 0, w: W, h: H }) === 'red');

    await publish('radio', { video: false, amplitude: 0, displayName: 'Radio Person' });
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'grid' })).status).toBe(200);
    const changed = await events.next((e) => e.type === 'layoutChanged' && e.layout === 'grid' && e.tiles.length === 5);
    const tile = changed.tiles.find((x: { identity: string }) => x.identity === 'radio') as Rect;
    // the placeholder grey (64,64,72) with the name in white across its middle: never black, never a frozen frame
    const isPlaceholder = (f: DecodedFrame) => {
      const sx = f.width / W;
      const sy = f.height / H;
      const [r, g, b] = meanColor(f, insetRect({ x: tile.x * sx, y: tile.y * sy, w: tile.w * sx, h: tile.h * sy }, 0.35));
      return r > 50 && g > 50 && b > 55 && Math.max(r, g, b) < 160;
    };
    const nameBrightness = (f: DecodedFrame) => {
      const sx = f.width / W;
      const sy = f.height / H;
      const band = { x: Math.round(tile.x * sx), y: Math.round((tile.y + tile.h * 0.4) * sy), w: Math.round(tile.w * sx), h: Math.max(2, Math.round(tile.h * 0.2 * sy)) };
      let brightest = 0;
      for (let y = band.y; y < band.y + band.h; y++) {
        for (let x = band.x; x < band.x + band.w; x++) {
          const i = (y * f.width + x) * 3;
          brightest = Math.max(brightest, Math.min(f.rgb[i], f.rgb[i + 1], f.rgb[i + 2]));
        }
      }
      return brightest;
    };
    const others = changed.tiles.filter((x: { identity: string; kind: string }) => x.identity !== 'radio') as Array<Rect & { identity: string; kind: string }>;
    const expected: Record<string, ColorName> = { 'quiet/camera': 'green', 'quiet/screen': 'magenta', 'loud/camera': 'red', 'silent/camera': 'blue' };
    const frame = await waitForMix(viewer, 'placeholder tile', (f) => isPlaceholder(f) && nameBrightness(f) > 170 && others.every((o) => colorAt(f, o) === expected[`${o.identity}/${o.kind}`]));
    saveFrame(frame, 'layout-placeholder');
  });

  it('events arrived in order with strictly increasing sequence numbers, covering joins, tracks, speaker and layout', async () => {
    const seen = events.all().filter((e) => e.type !== 'snapshot');
    const seqs = seen.map((e) => e.seq as number);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
    expect(seqs[0]).toBe((events.all()[0].seq as number) + 1);
    const types = new Set(seen.map((e) => e.type));
    for (const type of ['participantJoined', 'trackPublished', 'activeSpeakerChanged', 'layoutChanged']) expect(types).toContain(type);
    for (const e of seen) {
      expect(e.room).toBe(ROOM);
      expect(Number.isNaN(Date.parse(e.timestamp as string))).toBe(false);
    }
    const joined = seen.filter((e) => e.type === 'participantJoined').map((e) => e.participant.identity);
    expect(joined).toEqual(['quiet', 'loud', 'silent', 'viewer', 'radio']); // the screen share is not a second join
    const screen = seen.find((e) => e.type === 'trackPublished' && e.track.source === 'screen');
    expect(screen).toMatchObject({ participant: { identity: 'quiet' }, track: { kind: 'video' } });

    // a leave: tracks unpublished, then the participant left (the screen share still keeps "quiet" in the room)
    await pubs[pubs.length - 1].leave();
    const left = await events.next((e) => e.type === 'participantLeft');
    expect(left).toMatchObject({ participant: { identity: 'radio' }, reason: 'left' });
    const i = events.all().indexOf(left);
    expect(events.all()[i - 1]).toMatchObject({ type: 'trackUnpublished', participant: { identity: 'radio' }, track: { kind: 'audio', source: 'microphone' } });
  });

  it('the layout changes left the viewer one continuous stream, and recording status arrives as events', async () => {
    const v = viewer.stats().video;
    expect(v.ssrcs).toHaveLength(1);
    expect(v.seqJumpsBack).toBe(0);
    expect(v.tsJumpsBack).toBe(0);
    const created = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { format: 'mp4' });
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    await events.next((e) => e.type === 'recordingStatusChanged' && e.recording.id === id && e.recording.status === 'active', 15_000);
    // a layout change while recording: the recording goes on and still ends ready
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'speaker' })).status).toBe(200);
    expect((await t.admin('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const ready = await events.next((e) => e.type === 'recordingStatusChanged' && e.recording.id === id && e.recording.status === 'ready', 15_000);
    expect(ready.recording.durationSeconds).toBeGreaterThan(0);
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'grid' })).status).toBe(200);
  });

  it('PATCH validates its body and needs admin auth', async () => {
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'mosaic' })).status).toBe(400);
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, {})).status).toBe(400);
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { pinnedIdentity: 'has space' })).status).toBe(400);
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { width: 640 })).status).toBe(400);
    expect((await t.admin('PATCH', '/v1/rooms/nope', { layout: 'grid' })).status).toBe(404);
    expect((await t.request('PATCH', `/v1/rooms/${ROOM}`, { body: '{"layout":"grid"}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await t.request('POST', `/v1/rooms/${ROOM}/whip?source=window`, { body: 'v=0', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${await t.token(ROOM, 'x')}` } })).status).toBe(400);
  });

  it('the gateway refuses bad tokens and answers garbage with error frames, without closing anyone else', async () => {
    const bad = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=nonsense`);
    expect(await bad.next((e) => e.type === 'error')).toMatchObject({ code: 'unauthorized' });
    expect(await bad.closed).toBe(4401);
    const other = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${await t.token('another-room', 'x')}`);
    expect(await other.next((e) => e.type === 'error')).toMatchObject({ code: 'forbidden' });
    expect(await other.closed).toBe(4403);
    // a room that does not exist is not revealed: the token is for another room (4404 only to a token of that room)
    const missing = await openEvents(`${t.baseUrl}/v1/rooms/no-such-room/events?token=${await t.token(ROOM, 'x')}`);
    expect(await missing.closed).toBe(4403);

    // authentication by first frame, then garbage
    const c = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events`);
    c.sendRaw('{"type":"ping","id":1}'); // not answered before authentication
    expect(await c.next((e) => e.type === 'error')).toMatchObject({ code: 'unauthorized' });
    c.sendRaw(JSON.stringify({ type: 'auth', token: await t.token(ROOM, 'late') }));
    await c.next((e) => e.type === 'snapshot');
    c.sendRaw('{"type":"ping","id":1}');
    expect(await c.next((e) => e.type === 'pong')).toEqual({ type: 'pong', id: 1 });
    c.sendRaw('this is not json');
    expect(await c.next((e) => e.type === 'error' && e.code === 'bad_request')).toBeDefined();
    c.sendRaw('{"type":"launchMissiles"}');
    expect(await c.next((e) => e.type === 'error' && e.code === 'unknown_type')).toBeDefined();
    c.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(10_000) }));
    expect(await c.next((e) => e.type === 'error' && e.code === 'payload_too_large')).toBeDefined();
    c.sendRaw('{"type":"ping","id":"still-here"}');
    expect(await c.next((e) => e.type === 'pong' && e.id === 'still-here')).toBeDefined();
    // the dashboard connection saw none of this and is still open
    expect(events.all().some((e) => e.type === 'error')).toBe(false);
    expect(events.isOpen()).toBe(true);
    c.close();

    // a non-events path is not upgraded
    const nowhere = new WebSocket(`${t.baseUrl.replace('http', 'ws')}/v1/rooms/${ROOM}/nothing`);
    await expect(new Promise((resolve, reject) => (nowhere.once('open', resolve), nowhere.once('error', reject)))).rejects.toThrow(/404/);
  });

  it('200 clients connected at once all receive an event', async () => {
    // 200 viewers (one identity may hold MAX_EVENT_CLIENTS_PER_IDENTITY sockets: each its own token)
    const token = (i: number) => signRoomToken({ room: ROOM, identity: `crowd-${i}`, canPublish: false, canSubscribe: true }, t.config.tokenSecret, { ttlSeconds: 600 }).token;
    const crowd = await Promise.all(Array.from({ length: 200 }, (_, i) => openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${token(i)}`)));
    try {
      await Promise.all(crowd.map((c) => c.next((e) => e.type === 'snapshot', 20_000)));
      expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'speaker' })).status).toBe(200);
      const got = await Promise.all(crowd.map((c) => c.next((e) => e.type === 'layoutChanged' && e.layout === 'speaker', 20_000)));
      expect(got).toHaveLength(200);
      expect(new Set(got.map((e) => e.seq)).size).toBe(1);
      await waitFor(() => crowd.every((c) => c.isOpen()), 1000, 'all 200 still connected');
      const metrics = (await t.admin('GET', '/metrics')).text;
      const clients = Number(/^mcu_events_clients\{room="e2e-layouts"\} (\d+)$/m.exec(metrics)?.[1]);
      expect(clients).toBeGreaterThanOrEqual(201); // the crowd and the dashboard
    } finally {
      for (const c of crowd) c.close();
    }
  });
});
