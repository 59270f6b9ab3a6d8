import { startTestApp, type TestApp } from '../support/app-harness';

/**
 * Issue 14, "admin routes answer CORS * with a Basic prompt": a page on another origin must neither read admin
 * responses (no CORS on admin routes) nor make the browser ask for, or send cached, admin credentials (no
 * WWW-Authenticate across origins, and a cross-origin admin request is refused even with valid credentials). The
 * WHIP/WHEP, HLS and dev-token routes, which take bearer tokens, stay open to other origins.
 */
const EVIL = 'https://evil.example';

describe('admin routes and other origins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  const basic = () => `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}`;
  const raw = (method: string, p: string, headers: Record<string, string> = {}, body?: string) => fetch(`${t.baseUrl}${p}`, { method, headers, body });

  it('a cross-origin preflight of an admin route gets no CORS permission', async () => {
    for (const [method, p] of [['POST', '/v1/rooms'], ['DELETE', '/v1/rooms/x'], ['POST', '/v1/rooms/x/tokens'], ['GET', '/v1/recordings']]) {
      const r = await raw('OPTIONS', p, { origin: EVIL, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' });
      expect([p, r.headers.get('access-control-allow-origin')]).toEqual([p, null]);
    }
  });

  it('a cross-origin admin request gets no Basic prompt and no CORS header, and is refused even with valid credentials', async () => {
    const anon = await raw('GET', '/v1/rooms', { origin: EVIL });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBeNull();
    expect(anon.headers.get('access-control-allow-origin')).toBeNull();
    expect(await anon.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const withCreds = await raw('POST', '/v1/rooms', { origin: EVIL, authorization: basic(), 'content-type': 'application/json' }, JSON.stringify({ name: 'csrf' }));
    expect(withCreds.status).toBe(403);
    expect(await withCreds.json()).toEqual({ error: { code: 'forbidden', message: expect.stringMatching(/origin/i) } });
    expect((await t.admin('GET', '/v1/rooms/csrf')).status).toBe(404); // nothing was created
  });

  it('same-origin and non-browser admin requests work as before; without credentials curl still gets the Basic prompt', async () => {
    const anon = await raw('GET', '/v1/rooms');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Basic realm="mcu"');
    const same = await raw('POST', '/v1/rooms', { origin: t.baseUrl, authorization: basic(), 'content-type': 'application/json' }, JSON.stringify({ name: 'same-origin' }));
    expect(same.status).toBe(201);
    expect((await raw('GET', '/v1/rooms', { authorization: basic() })).status).toBe(200);
  });

  it('token routes stay open to other origins (bearer tokens are not ambient credentials)', async () => {
    const pre = await raw('OPTIONS', '/v1/rooms/x/whip', { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' });
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const whep = await raw('POST', '/v1/rooms/x/whep', { origin: EVIL, 'content-type': 'application/sdp' }, 'v=0');
    expect(whep.status).toBe(401);
    expect(whep.headers.get('access-control-allow-origin')).toBe('*');
    expect(whep.headers.get('access-control-expose-headers')).toMatch(/Location/);
  });
});
