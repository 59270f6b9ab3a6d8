import type { RTCPeerConnection } from 'werift';
import { dropPeerSilently, gatheredOffer, httpRequest } from '../helpers/webrtc-peer';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { roomDecoderPids } from '../support/processes';

/**
 * Issue 14, "one token, thirty sessions": concurrent WHIP POSTs with one publisher token must end with exactly one live
 * publisher session for that identity and no decoder left running for the others. The slot is reserved synchronously
 * per room, identity and source: a POST while another one of the same identity and source is being set up is a 409;
 * one after it finished replaces it (`replaced`).
 */
const ROOM = 'whip-race';
const N = 30;

type RoomJson = { numPublishers: number; participants: Array<{ identity: string; publisher?: { id: string } }> };

describe('concurrent WHIP POSTs with one token', () => {
  let t: TestApp;
  const peers: RTCPeerConnection[] = [];
  // decoders of this file's room only: ffmpeg left by earlier files of an in-band run must not count
  let earlier = new Set<number>();
  const decoderPids = () => roomDecoderPids().filter((p) => !earlier.has(p));
  beforeAll(async () => {
    earlier = new Set(roomDecoderPids());
    // the peers here send no media: keep them from being removed for silence while the test looks
    t = await startTestApp({ PUBLISHER_TIMEOUT_SECONDS: '60', SESSION_CONNECT_TIMEOUT_SECONDS: '120' });
  });
  afterAll(async () => {
    await Promise.allSettled(peers.map((pc) => dropPeerSilently(pc)));
    await t?.close();
  });

  it(`${N} POSTs at once end with one publisher for the identity and one decoder per publisher`, async () => {
    const token = await t.token(ROOM, 'racer');
    const offers = await Promise.all(Array.from({ length: N }, () => gatheredOffer()));
    peers.push(...offers.map((o) => o.pc));
    const url = `${t.baseUrl}/v1/rooms/${ROOM}/whip`;
    const results = await Promise.all(offers.map((o) => httpRequest('POST', url, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, o.sdp, 30_000)));
    const statuses = results.map((r) => r.status);
    const created = results.filter((r) => r.status === 201).map((r) => String(r.headers.location).split('/').pop());

    // the decoders of replaced sessions are gone within a moment; then the room holds still
    const settled = async () => {
      const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson;
      const decoders = decoderPids().length;
      return room.numPublishers === 1 && decoders === 1 ? { room, decoders } : undefined;
    };
    let last: unknown;
    await waitFor(async () => (last = await settled()), 8000, 'one publisher and one decoder').catch(async (e: Error) => {
      const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson;
      throw new Error(`${e.message}; numPublishers ${room.numPublishers}, decoders ${decoderPids().length}, statuses ${JSON.stringify(statuses)}`);
    });
    // every POST is answered 201 (it became the identity's session, maybe replaced since) or 409 (one was being set up)
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(r.body)).toEqual({ error: { code: 'conflict', message: expect.stringContaining('racer') } });
    }
    await sleep(2000);
    const { room, decoders } = (await settled()) ?? { room: (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson, decoders: decoderPids().length };
    expect({ numPublishers: room.numPublishers, decoders }).toEqual({ numPublishers: 1, decoders: 1 });
    const racer = room.participants.find((p) => p.identity === 'racer');
    expect(created).toContain(racer?.publisher?.id);
    expect(last).toBeDefined();
  });

  it('a second session of the identity after the first was answered replaces it', async () => {
    const token = await t.token(ROOM, 'racer');
    const before = ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson).participants.find((p) => p.identity === 'racer')?.publisher?.id;
    const { pc, sdp } = await gatheredOffer();
    peers.push(pc);
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whip`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, sdp, 30_000);
    expect(r.status).toBe(201);
    const id = String(r.headers.location).split('/').pop();
    expect(id).not.toBe(before);
    await waitFor(async () => {
      const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson;
      return room.numPublishers === 1 && room.participants.find((p) => p.identity === 'racer')?.publisher?.id === id && decoderPids().length === 1;
    }, 8000, 'the new session alone, with one decoder');
  });
});
