import { createHmac } from 'node:crypto';
import { signRoomToken } from '@app/core';
import { createPeer, dropPeerSilently, h264Codec, httpRequest, opusCodec, vp8Codec, waitIceGatheringComplete } from '../helpers/webrtc-peer';
import { openEvents } from '../support/events-client';
import { startTestApp, type TestApp } from '../support/app-harness';

/**
 * Issue 14, "one secret for everything": the admin password, the room-token key, the webhook HMAC key and the workers'
 * token key are separate (derived from MCU_API_SECRET with distinct labels when unset), tokens name their key (`kid`),
 * and only tokens signed with the workers' key may be `hidden`.
 */
const secrets = (t: TestApp) => ({ apiSecret: t.config.apiSecret, tokenSecret: t.config.tokenSecret, webhookSecret: t.config.webhookSecret, workerSecret: t.config.workerSecret });
const ROOM = 'secrets';
const sign = (secret: string, o: { identity?: string; hidden?: boolean; canPublish?: boolean } = {}) =>
  signRoomToken({ room: ROOM, identity: o.identity ?? 'eve', canPublish: o.canPublish ?? false, canSubscribe: true, ...(o.hidden ? { hidden: true } : {}) }, secret, { ttlSeconds: 300 }).token;

/** A WHEP POST with a body that is no SDP offer: 401/403 when the token is refused, 400 invalid_sdp once it is accepted. */
async function whepStatus(t: TestApp, token: string): Promise<number> {
  return (await t.request('POST', `/v1/rooms/${ROOM}/whep`, { headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: 'v=0\r\n' })).status;
}

describe('separate secrets (derived from MCU_API_SECRET)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.token(ROOM, 'host'); // creates the room
  });
  afterAll(async () => t?.close());

  it('derives four different secrets', () => {
    const s = secrets(t);
    expect(new Set([s.apiSecret, s.tokenSecret, s.webhookSecret, s.workerSecret]).size).toBe(4);
  });

  it('refuses a room token signed with the webhook secret (401), on WHIP/WHEP and on the events socket', async () => {
    const forged = sign(secrets(t).webhookSecret);
    expect(await whepStatus(t, forged)).toBe(401);
    const ws = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${forged}`);
    expect(await ws.closed).toBe(4401);
  });

  it('refuses a room token signed with MCU_API_SECRET itself under its own kid (the admin password is no token key)', async () => {
    expect(await whepStatus(t, sign(secrets(t).apiSecret))).toBe(401);
  });

  it('still accepts an app-signed token the old way (no kid, MCU_API_SECRET) while TOKEN_SECRET is unset, never as hidden', async () => {
    const old = (grants: Record<string, unknown>) => {
      const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ sub: 'old-app', room: ROOM, grants, exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url');
      return `${head}.${body}.${createHmac('sha256', secrets(t).apiSecret).update(`${head}.${body}`).digest('base64url')}`;
    };
    expect(await whepStatus(t, old({ canPublish: false, canSubscribe: true }))).toBe(400); // accepted: the body is no SDP
    expect(await whepStatus(t, old({ canPublish: false, canSubscribe: true, hidden: true }))).toBe(401);
  });

  it('accepts what the API issues, and the token names its key', async () => {
    const token = await t.token(ROOM, 'ann');
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/) });
    expect(await whepStatus(t, token)).toBe(400);
  });

  it('refuses a hidden token signed with the token secret (only workers may be hidden)', async () => {
    const r = await t.request('POST', `/v1/rooms/${ROOM}/whep`, { headers: { 'content-type': 'application/sdp', authorization: `Bearer ${sign(secrets(t).tokenSecret, { hidden: true })}` }, body: 'v=0\r\n' });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/hidden/) } });
  });

  it('admits a hidden subscriber signed with the worker secret, unlisted; the worker secret signs nothing else', async () => {
    const pc = createPeer({ video: [h264Codec(), vp8Codec()], audio: [opusCodec()] });
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await waitIceGatheringComplete(pc);
      const token = sign(secrets(t).workerSecret, { identity: 'recorder-x', hidden: true });
      const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/${ROOM}/whep`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, pc.localDescription?.sdp ?? '');
      expect(r.status).toBe(201);
      const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { participants: Array<{ identity: string }> };
      expect(room.participants.map((p) => p.identity)).not.toContain('recorder-x');
      await httpRequest('DELETE', new URL(String(r.headers.location), t.baseUrl).toString(), { Authorization: `Bearer ${token}` });
    } finally {
      await dropPeerSilently(pc);
    }
    // a worker-signed token that is not a hidden subscription (a publisher, a visible viewer) is refused
    expect(await whepStatus(t, sign(secrets(t).workerSecret, { canPublish: true }))).toBe(401);
    expect(await whepStatus(t, sign(secrets(t).workerSecret))).toBe(401);
  });
});

describe('set secrets and key rotation', () => {
  const OLD = 'old-token-secret-0123456789abcdef';
  const NEW = 'new-token-secret-0123456789abcdef';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TOKEN_SECRET: NEW, TOKEN_SECRET_PREVIOUS: OLD, WEBHOOK_SECRET: 'webhook-secret-0123456789abcdef', WORKER_SECRET: 'worker-secret-0123456789abcdef' });
    await t.token(ROOM, 'host');
  });
  afterAll(async () => t?.close());

  it('uses the secrets as set', () => {
    expect(secrets(t)).toMatchObject({ tokenSecret: NEW, webhookSecret: 'webhook-secret-0123456789abcdef', workerSecret: 'worker-secret-0123456789abcdef' });
  });

  it('accepts tokens of the current and the previous TOKEN_SECRET, refuses an unknown or forged kid', async () => {
    expect(await whepStatus(t, sign(NEW))).toBe(400);
    expect(await whepStatus(t, sign(OLD))).toBe(400);
    // a token naming the previous key's kid but signed with something else
    const old = sign(OLD);
    const [head, body] = old.split('.');
    const forgedSig = createHmac('sha256', 'something-else-entirely-0123456789').update(`${head}.${body}`).digest('base64url');
    expect(await whepStatus(t, `${head}.${body}.${forgedSig}`)).toBe(401);
    // an unknown kid, correctly signed with the current key
    const unknownHead = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'no-such-key' })).toString('base64url');
    const unknownSig = createHmac('sha256', NEW).update(`${unknownHead}.${body}`).digest('base64url');
    const r = await t.request('POST', `/v1/rooms/${ROOM}/whep`, { headers: { 'content-type': 'application/sdp', authorization: `Bearer ${unknownHead}.${body}.${unknownSig}` }, body: 'v=0\r\n' });
    expect(r.status).toBe(401);
    // the worker's key only signs hidden subscriptions; a token of the current key without kid still works (apps signing their own)
    const noKidHead = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const noKidSig = createHmac('sha256', NEW).update(`${noKidHead}.${body}`).digest('base64url');
    expect(await whepStatus(t, `${noKidHead}.${body}.${noKidSig}`)).toBe(400);
  });
});
