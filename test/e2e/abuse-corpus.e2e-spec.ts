import { createHmac, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { WebSocket } from 'ws';
import { signRoomToken } from '@app/core';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { openEvents } from '../support/events-client';

/**
 * Issue 14, the abuse corpus: bad SDP, bad JSON, bad WebSocket frames, bad tokens and path tricks in every id. Each gets
 * a clear 4xx with the JSON error shape (or an error frame / close code), nothing crashes, and a running room's viewer
 * keeps decoding the mix throughout.
 */
const ROOM = 'abused';

jest.setTimeout(90_000);

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A JWT signed (HS256) with `secret`, any header and claims: for tokens the server must refuse. */
const jwt = (header: Record<string, unknown>, claims: Record<string, unknown>, secret: string) => {
  const signed = `${b64(header)}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
};

/** An HTTP request whose path is sent exactly as given (fetch would resolve `..` and `.` segments first). */
function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string; json: unknown }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('abuse corpus', () => {
  let t: TestApp;
  let pub: Publisher | undefined;
  let viewer: Subscriber | undefined;
  let pubToken: string;

  /** The running room's viewer decodes new frames (checked after every group). */
  const stillFlowing = async () => {
    const before = viewer!.stats().framesDecoded;
    await waitFor(() => viewer!.stats().framesDecoded >= before + 5, 10_000, 'the viewer to keep decoding the mix');
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  };
  /** A 4xx answered with the API's JSON error shape. */
  const expect4xx = (what: string, r: { status: number; json: unknown; text: string }) => {
    expect({ what, status: r.status >= 400 && r.status < 500 ? '4xx' : r.status }).toEqual({ what, status: '4xx' });
    expect({ what, body: r.json }).toEqual({ what, body: { error: { code: expect.any(String), message: expect.any(String) } } });
  };
  const sdpPost = (kind: 'whip' | 'whep', body: string | Buffer, token = pubToken, type = 'application/sdp') =>
    fetch(`${t.baseUrl}/v1/rooms/${ROOM}/${kind}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(async (r) => {
      const text = await r.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: r.status, text, json };
    });

  beforeAll(async () => {
    t = await startTestApp({ PUBLISHER_TIMEOUT_SECONDS: '30' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, 'alice'), width: 320, height: 180, fps: 15 });
    await pub.connected();
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }) });
    await viewer.connected();
    await waitFor(() => viewer!.stats().framesDecoded > 10, 30_000, 'the viewer to decode the mix');
    pubToken = await t.token(ROOM, 'abuser');
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([pub?.close(), viewer?.close()]);
    await t?.close();
  });

  it('bad SDP: truncated, huge, binary, 1000 m-lines, unknown codecs only', async () => {
    const head = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
    const mline = (i: number) => `m=audio ${9 + i} UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:${i}\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n`;
    const corpus: Array<[string, string | Buffer]> = [
      ['truncated', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns'],
      ['huge', head + 'a=x:' + 'y'.repeat(70 * 1024) + '\r\n'],
      ['binary', randomBytes(2048)],
      ['1000 m-lines', head + Array.from({ length: 1000 }, (_, i) => mline(i)).join('')],
      ['unknown codecs only', head + 'm=video 9 UDP/TLS/RTP/SAVPF 100\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:100 FOO/90000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11\r\na=setup:actpass\r\n'],
      ['empty', ''],
      ['not SDP at all', '{"sdp": "v=0"}'],
    ];
    for (const kind of ['whip', 'whep'] as const) {
      for (const [name, body] of corpus) expect4xx(`${kind} ${name}`, await sdpPost(kind, body));
    }
    expect4xx('whip with a JSON content type', await sdpPost('whip', 'v=0', pubToken, 'application/json'));
    await stillFlowing();
  });

  it('bad JSON bodies', async () => {
    const post = (p: string, body: string, type = 'application/json') => t.admin('POST', p, body, { 'content-type': type });
    expect4xx('not JSON', await post('/v1/rooms', '{"name": '));
    expect4xx('an array', await post('/v1/rooms', '[1,2,3]'));
    expect4xx('a string', await post('/v1/rooms', '"room"'));
    expect4xx('null', await post('/v1/rooms', 'null'));
    expect4xx('too large', await post('/v1/rooms', JSON.stringify({ name: 'x', pad: 'y'.repeat(20 * 1024) })));
    expect4xx('deeply nested', await post('/v1/rooms', '['.repeat(5000) + ']'.repeat(5000)));
    expect4xx('__proto__', await post('/v1/rooms', '{"name":"proto","__proto__":{"admin":true}}'));
    expect4xx('wrong types', await post('/v1/rooms', JSON.stringify({ name: 42, width: 'wide' })));
    expect4xx('form encoded', await post('/v1/rooms', 'name=x', 'application/x-www-form-urlencoded'));
    expect4xx('token without identity', await post(`/v1/rooms/${ROOM}/tokens`, '{}'));
    expect4xx('token with a huge identity', await post(`/v1/rooms/${ROOM}/tokens`, JSON.stringify({ identity: 'i'.repeat(10_000) })));
    expect4xx('patch with a bad layout', await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'spiral' }));
    expect4xx('recording with unknown fields', await post(`/v1/rooms/${ROOM}/recordings`, JSON.stringify({ format: '../../etc/passwd' })));
    expect4xx('livestream to file:', await post(`/v1/rooms/${ROOM}/livestreams`, JSON.stringify({ url: 'file:/etc/passwd' })));
    expect4xx('livestream to the metadata service', await post(`/v1/rooms/${ROOM}/livestreams`, JSON.stringify({ url: 'rtmp://169.254.169.254/latest/meta-data' })));
    expect4xx('livestream to loopback', await post(`/v1/rooms/${ROOM}/livestreams`, JSON.stringify({ url: 'rtmp://127.0.0.1:1935/live/key' })));
    await stillFlowing();
  });

  it('bad WebSocket frames: error frames, the socket stays; a frame over 64 KiB closes it with 1009', async () => {
    const ev = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${await t.token(ROOM, 'ws-abuser', { canPublish: false })}`);
    await ev.next((e) => e.type === 'snapshot');
    for (const frame of ['not json', '[1,2]', '{"type":"explode"}', '{"no":"type"}', 'x'.repeat(8 * 1024), '\u0000\u0001']) {
      ev.sendRaw(frame);
      const err = await ev.next((e) => e.type === 'error', 5000);
      expect(err).toMatchObject({ type: 'error', code: expect.any(String), message: expect.any(String) });
    }
    // binary frames
    const raw = new WebSocket(`${t.baseUrl.replace(/^http/, 'ws')}/v1/rooms/${ROOM}/events?token=${await t.token(ROOM, 'ws-binary', { canPublish: false })}`);
    const frames: Array<Record<string, unknown>> = [];
    raw.on('message', (d) => frames.push(JSON.parse(String(d))));
    const rawClosed = new Promise<number>((r) => raw.once('close', (code) => r(code)));
    await waitFor(() => frames.some((f) => f.type === 'snapshot'), 10_000, 'a snapshot');
    raw.send(randomBytes(100));
    await waitFor(() => frames.some((f) => f.type === 'error'), 5000, 'an error frame for a binary frame');
    expect(raw.readyState).toBe(WebSocket.OPEN);
    ev.sendRaw('{"type":"ping","id":1}');
    expect(await ev.next((e) => e.type === 'pong', 5000)).toMatchObject({ id: 1 });
    expect(ev.isOpen()).toBe(true);
    raw.send('y'.repeat(70 * 1024));
    expect(await rawClosed).toBe(1009);
    ev.close();
    await stillFlowing();
  });

  it('bad tokens: none, alg none, alg confusion, expired, another room, forged kid', async () => {
    const secret = t.config.tokenSecret;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'mallory', room: ROOM, grants: { canPublish: true, canSubscribe: true }, iat: now, exp: now + 600 };
    const good = signRoomToken({ room: ROOM, identity: 'mallory', canPublish: true, canSubscribe: true }, secret, { ttlSeconds: 600 }).token;
    const kid = JSON.parse(Buffer.from(good.split('.')[0], 'base64url').toString()).kid as string;
    const bad: Array<[string, string, number]> = [
      ['garbage', 'not-a-token', 401],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 401],
      ['alg none, HS256 claims signature', jwt({ alg: 'none', kid }, claims, secret), 401],
      ['alg RS256 (confusion)', jwt({ alg: 'RS256', kid }, claims, secret), 401],
      ['alg HS512', jwt({ alg: 'HS512', kid }, claims, secret), 401],
      ['expired', jwt({ alg: 'HS256', typ: 'JWT', kid }, { ...claims, iat: now - 1200, exp: now - 600 }, secret), 401],
      ['forged kid', jwt({ alg: 'HS256', typ: 'JWT', kid: 'deadbeefdeadbeef' }, claims, secret), 401],
      ['signed with another key', jwt({ alg: 'HS256', typ: 'JWT', kid }, claims, 'another-secret'), 401],
      ['hidden grant with the token key', jwt({ alg: 'HS256', typ: 'JWT', kid }, { ...claims, grants: { canPublish: false, canSubscribe: true, hidden: true } }, secret), 401],
      ['another room', signRoomToken({ room: 'elsewhere', identity: 'mallory', canPublish: true, canSubscribe: true }, secret, { ttlSeconds: 600 }).token, 403],
    ];
    const none = await sdpPost('whip', 'v=0', '');
    expect4xx('no token', { ...none });
    expect(none.status).toBe(401);
    for (const [name, token, status] of bad) {
      for (const kind of ['whip', 'whep'] as const) {
        const r = await sdpPost(kind, 'v=0\r\n', token);
        expect4xx(`${kind} ${name}`, r);
        expect([`${kind} ${name}`, r.status]).toEqual([`${kind} ${name}`, status]);
      }
      const hls = await t.request('GET', `/v1/rooms/${ROOM}/hls/index.m3u8?token=${encodeURIComponent(token)}`);
      expect4xx(`hls ${name}`, hls);
      const ev = await openEvents(`${t.baseUrl}/v1/rooms/${ROOM}/events?token=${encodeURIComponent(token)}`);
      expect([`events ${name}`, await ev.closed]).toEqual([`events ${name}`, status === 403 ? 4403 : 4401]);
      // admin routes do not take room tokens
      expect((await t.request('GET', '/v1/rooms', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    }
    await stillFlowing();
  });

  it('path tricks in every id: a clear 4xx, never a 5xx or a file outside its place', async () => {
    const ids = ['..', '%2e%2e', '..%2f..%2fetc%2fpasswd', 'a%2fb', '%00', 'a%00b', '%', '%zz', 'x'.repeat(4000), '%c0%ae%c0%ae', '.', '~root', '$(id)'];
    const routes: Array<[string, (id: string) => string]> = [
      ['GET', (id) => `/v1/rooms/${id}`],
      ['PATCH', (id) => `/v1/rooms/${id}`],
      ['DELETE', (id) => `/v1/rooms/${id}`],
      ['POST', (id) => `/v1/rooms/${id}/recordings`],
      ['POST', (id) => `/v1/rooms/${id}/livestreams`],
      ['GET', (id) => `/v1/rooms/${id}/hls`],
      ['GET', (id) => `/v1/recordings/${id}`],
      ['POST', (id) => `/v1/recordings/${id}/stop`],
      ['GET', (id) => `/v1/recordings/${id}/file`],
      ['GET', (id) => `/v1/recordings/${id}/thumbnail`],
      ['GET', (id) => `/v1/recordings/rec_0000000000000000/parts/${id}`],
      ['DELETE', (id) => `/v1/recordings/${id}`],
      ['GET', (id) => `/v1/livestreams/${id}`],
      ['DELETE', (id) => `/v1/livestreams/${id}`],
      ['DELETE', (id) => `/v1/rooms/${ROOM}/whip/${id}`],
      ['DELETE', (id) => `/v1/rooms/${ROOM}/whep/${id}`],
      ['PATCH', (id) => `/v1/rooms/${ROOM}/whip/${id}`],
      ['GET', (id) => `/v1/rooms/${ROOM}/hls/${id}`],
      ['GET', (id) => `/web/${id}`],
    ];
    const bodyFor = (method: string) => (method === 'PATCH' ? '{"layout":"grid"}' : method === 'POST' ? '{}' : undefined);
    const basic = `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}`;
    const failures: string[] = [];
    for (const [method, url] of routes) {
      for (const id of ids) {
        const p = url(id);
        const body = bodyFor(method);
        const r = await rawRequest(t.baseUrl, method, p, { authorization: basic, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
        const ok = r.status >= 400 && r.status < 500 && (r.json as { error?: { code?: unknown } })?.error?.code !== undefined;
        if (!ok) failures.push(`${method} ${p.slice(0, 80)} → ${r.status} ${r.text.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
    // the token route creates rooms: names that are not room names are refused, none is created
    for (const id of ['..', '%2e%2e', 'a%2fb', '%00', 'x'.repeat(4000)]) {
      const r = await rawRequest(t.baseUrl, 'POST', `/v1/rooms/${id}/tokens`, { authorization: basic, 'content-type': 'application/json' }, '{"identity":"x"}');
      expect4xx(`tokens for ${id.slice(0, 20)}`, r);
    }
    expect(((await t.admin('GET', '/v1/rooms')).json as { rooms?: Array<{ name: string }> } | Array<{ name: string }>)).toBeDefined();
    expect((await t.admin('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
    await sleep(200);
    await stillFlowing();
  });
});
