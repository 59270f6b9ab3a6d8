import { createHmac } from 'node:crypto';
import type { RTCPeerConnection } from 'werift';
import { startTestApp, type TestApp } from '../support/app-harness';
import { createPeer, h264Codec, httpRequest, opusCodec, vp8Codec, waitIceGatheringComplete } from '../helpers/webrtc-peer';

const ICE_SERVERS = 'stun:stun.example.com:3478,turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349';
const SECRET = 'coturn-shared-secret-for-tests';

interface IceServerJson {
  urls: string[];
  username?: string;
  credential?: string;
}

/** POSTs a real werift offer to WHIP or WHEP and returns the 201's Link headers (then leaves). */
async function linkHeadersOf(t: TestApp, kind: 'whip' | 'whep', room: string, token: string): Promise<string[]> {
  const pc: RTCPeerConnection = createPeer({ video: [kind === 'whip' ? vp8Codec() : h264Codec()], audio: [opusCodec()] });
  const dir = kind === 'whip' ? 'sendonly' : 'recvonly';
  pc.addTransceiver('video', { direction: dir });
  pc.addTransceiver('audio', { direction: dir });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGatheringComplete(pc);
    const res = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${room}/${kind}`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, pc.localDescription!.sdp);
    expect(`${res.status} ${res.status === 201 ? '' : res.body}`).toBe('201 ');
    await httpRequest('DELETE', new URL(res.headers.location!, t.baseUrl).toString(), { Authorization: `Bearer ${token}` });
    const link = res.headers.link;
    return link === undefined ? [] : Array.isArray(link) ? link : link.split(/,\s*(?=<)/);
  } finally {
    await pc.close();
  }
}

/** Parses `<url>; rel="ice-server"; username="…"; credential="…"` into its parts. */
function parseLink(link: string): { url: string; params: Record<string, string> } {
  const m = /^<([^>]+)>(.*)$/.exec(link.trim());
  if (!m) throw new Error(`not a Link value: ${link}`);
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/;\s*([a-z-]+)="([^"]*)"/g)) params[p[1]] = p[2];
  return { url: m[1], params };
}

function expectRestCredentials(username: string, credential: string, identity: string, ttl: number): void {
  const [expiry, who] = [username.slice(0, username.indexOf(':')), username.slice(username.indexOf(':') + 1)];
  expect(who).toBe(identity);
  const now = Date.now() / 1000;
  expect(Number(expiry)).toBeGreaterThan(now + ttl - 30);
  expect(Number(expiry)).toBeLessThanOrEqual(now + ttl + 1);
  expect(credential).toBe(createHmac('sha1', SECRET).update(username).digest('base64'));
}

describe('TURN REST credentials', () => {
  describe('with TURN_SECRET', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ ICE_SERVERS, TURN_SECRET: SECRET, TURN_TTL_SECONDS: '600' });
    });
    afterAll(async () => t?.close());

    it('token responses carry short-lived credentials for the turn: servers only', async () => {
      const r = await t.admin('POST', '/v1/rooms/turn-room/tokens', { identity: 'alice' });
      expect(r.status).toBe(201);
      const servers = (r.json as { iceServers: IceServerJson[] }).iceServers;
      expect(servers.map((s) => s.urls)).toEqual([['stun:stun.example.com:3478'], ['turn:turn.example.com:3478?transport=udp'], ['turns:turn.example.com:5349']]);
      expect(servers[0]).not.toHaveProperty('username');
      for (const s of servers.slice(1)) expectRestCredentials(s.username!, s.credential!, 'alice', 600);
      // the dev token endpoint (the web client's) hands out the same
      const dev = await t.request('POST', '/v1/dev/tokens', { body: JSON.stringify({ room: 'turn-room', identity: 'bob' }), headers: { 'content-type': 'application/json' } });
      const devServers = (dev.json as { iceServers: IceServerJson[] }).iceServers;
      expectRestCredentials(devServers[1].username!, devServers[1].credential!, 'bob', 600);
    });

    it('WHIP and WHEP 201 answers advertise them in Link headers', async () => {
      const token = await t.token('turn-room', 'carol');
      for (const kind of ['whip', 'whep'] as const) {
        const links = (await linkHeadersOf(t, kind, 'turn-room', token)).map(parseLink);
        expect(links.map((l) => l.url)).toEqual(['stun:stun.example.com:3478', 'turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349']);
        expect(links.every((l) => l.params.rel === 'ice-server')).toBe(true);
        expect(links[0].params.username).toBeUndefined();
        for (const l of links.slice(1)) {
          expect(l.params['credential-type']).toBe('password');
          expectRestCredentials(l.params.username, l.params.credential, 'carol', 600);
        }
      }
    });
  });

  describe('without TURN_SECRET', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ ICE_SERVERS });
    });
    afterAll(async () => t?.close());

    it('hands out the servers without credentials', async () => {
      const r = await t.admin('POST', '/v1/rooms/plain-room/tokens', { identity: 'alice' });
      const servers = (r.json as { iceServers: IceServerJson[] }).iceServers;
      expect(servers).toHaveLength(3);
      for (const s of servers) expect(s.username ?? s.credential).toBeUndefined();
      const token = await t.token('plain-room', 'dave');
      const links = (await linkHeadersOf(t, 'whip', 'plain-room', token)).map(parseLink);
      expect(links).toHaveLength(3);
      for (const l of links) expect(l.params.username ?? l.params.credential).toBeUndefined();
    });
  });
});
