import * as dgram from 'node:dgram';
import { dropPeerSilently, gatheredOffer, h264Codec, httpRequest, vp8Codec } from '../helpers/webrtc-peer';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Issue 14: a WHEP (or WHIP) session whose ICE/DTLS never connects is closed after SESSION_CONNECT_TIMEOUT_SECONDS
 * and its UDP port released; one that connects is not touched.
 */
const ROOM = 'never-connects';

/** The UDP ports of the host candidates in an SDP answer. */
const candidatePorts = (sdp: string): number[] => [...new Set([...sdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1])))];

/** Whether this process can bind the UDP port (on every address): false while the server's peer still holds it. */
async function portFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '0.0.0.0', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

type RoomJson = { participants: Array<{ identity: string; publisher?: { id: string }; subscriber?: { id: string } }> };

describe('sessions that never connect', () => {
  let t: TestApp;
  let viewer: Subscriber | undefined;
  beforeAll(async () => {
    t = await startTestApp({ SESSION_CONNECT_TIMEOUT_SECONDS: '2', PUBLISHER_TIMEOUT_SECONDS: '30' });
  });
  afterAll(async () => {
    await viewer?.close();
    await t?.close();
  });
  const participant = async (identity: string) => ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as RoomJson).participants.find((p) => p.identity === identity);

  it('closes a WHEP session that never connects and releases its port; a connected viewer stays', async () => {
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'watcher') });
    await viewer.connected();
    const { pc, sdp } = await gatheredOffer('recvonly', [h264Codec(), vp8Codec()]);
    const token = await t.token(ROOM, 'ghost');
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whep`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, sdp);
    expect(r.status).toBe(201);
    await dropPeerSilently(pc); // the client is gone before it ever answered a connectivity check
    const ports = candidatePorts(r.body);
    expect(ports.length).toBeGreaterThan(0);
    expect((await participant('ghost'))?.subscriber).toBeDefined();
    expect(await portFree(ports[0])).toBe(false);
    const started = Date.now();
    await waitFor(async () => (await participant('ghost')) === undefined, 8000, 'the never-connected subscriber to be closed');
    expect(Date.now() - started).toBeLessThan(6000);
    await waitFor(async () => (await Promise.all(ports.map(portFree))).every(Boolean), 3000, 'its UDP port to be released');
    await sleep(1000);
    expect((await participant('watcher'))?.subscriber).toBeDefined(); // connected long ago: untouched
  });

  it('closes a WHIP session that never connects within the timeout', async () => {
    const { pc, sdp } = await gatheredOffer('sendonly', [h264Codec(), vp8Codec()]);
    const token = await t.token(ROOM, 'ghost-pub');
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whip`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, sdp);
    expect(r.status).toBe(201);
    await dropPeerSilently(pc);
    expect((await participant('ghost-pub'))?.publisher).toBeDefined();
    const started = Date.now();
    await waitFor(async () => (await participant('ghost-pub')) === undefined, 8000, 'the never-connected publisher to be closed');
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
