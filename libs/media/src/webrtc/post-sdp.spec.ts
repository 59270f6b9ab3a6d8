import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postSdp, SdpPostError } from './post-sdp';

type Seen = { method?: string; url?: string; auth?: string; type?: string; body: string };
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A tiny local HTTP server (another port is another origin) that records what it was sent. */
async function server(handler: Handler) {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body });
      handler(req, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((r) => s.close(() => r())) };
}

describe('postSdp', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  it('follows a 307 to another origin, keeps the Authorization and the body, and resolves the session against the answering URL', async () => {
    const hosting = await server((_req, res) => res.writeHead(201, { location: '/v1/rooms/r/whep/sess1', 'content-type': 'application/sdp' }).end('v=0\r\nanswer'));
    const other = await server((req, res) => res.writeHead(307, { location: `${hosting.base}${req.url}` }).end());
    closers.push(hosting.close, other.close);

    const r = await postSdp(`${other.base}/v1/rooms/r/whep`, 'tok', 'v=0\r\noffer');
    expect(r).toEqual({ status: 201, body: 'v=0\r\nanswer', url: `${hosting.base}/v1/rooms/r/whep`, resourceUrl: `${hosting.base}/v1/rooms/r/whep/sess1` });
    for (const s of [other.seen[0], hosting.seen[0]]) expect(s).toEqual({ method: 'POST', url: '/v1/rooms/r/whep', auth: 'Bearer tok', type: 'application/sdp', body: 'v=0\r\noffer' });
  });

  it('resolves a relative Location against the URL that sent it (308 too)', async () => {
    const s = await server((req, res) => {
      if (req.url === '/a/whep') res.writeHead(308, { location: '../b/whep' }).end();
      else res.writeHead(201, { location: 'whep/s2' }).end('v=0');
    });
    closers.push(s.close);
    const r = await postSdp(`${s.base}/a/whep`, 't', 'o');
    expect(s.seen.map((x) => x.url)).toEqual(['/a/whep', '/b/whep']);
    expect(r.resourceUrl).toBe(`${s.base}/b/whep/s2`);
  });

  it('gives up after 3 redirects', async () => {
    const s = await server((_req, res) => res.writeHead(307, { location: '/loop' }).end());
    closers.push(s.close);
    const e = (await postSdp(`${s.base}/loop`, 't', 'o').catch((x: unknown) => x)) as SdpPostError;
    expect(e).toBeInstanceOf(SdpPostError);
    expect(e.message).toMatch(/more than 3 redirects/);
    expect(e.status).toBeUndefined();
    expect(s.seen).toHaveLength(4); // the first request and 3 hops
  });

  it('returns a refusal as it is, and a network error as an SdpPostError without a status', async () => {
    const s = await server((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}'));
    closers.push(s.close);
    const r = await postSdp(`${s.base}/x`, 't', 'o');
    expect(r).toMatchObject({ status: 404, body: '{"error":{"code":"not_found"}}' });
    expect(r.resourceUrl).toBeUndefined();

    const gone = await server(() => undefined);
    await gone.close();
    const e = (await postSdp(`${gone.base}/x`, 't', 'o').catch((x: unknown) => x)) as SdpPostError;
    expect(e).toBeInstanceOf(SdpPostError);
    expect(e.status).toBeUndefined();
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});
