import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerResource, postOffer } from './webrtc-peer';

/** The e2e peers' signalling follows a node's 307 to the hosting node, as a WHIP/WHEP client must. */
describe('postOffer (test helpers)', () => {
  const servers: http.Server[] = [];
  const listen = async (handler: http.RequestListener) => {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('follows 307 to another origin with the Authorization kept; the resource is resolved against the answering URL', async () => {
    const auths: Array<string | undefined> = [];
    const hosting = await listen((req, res) => {
      auths.push(req.headers.authorization);
      req.resume().on('end', () => res.writeHead(201, { location: '/v1/rooms/r/whip/p1' }).end('v=0\r\n'));
    });
    const other = await listen((req, res) => {
      auths.push(req.headers.authorization);
      req.resume().on('end', () => res.writeHead(307, { location: `${hosting}${req.url}` }).end());
    });
    const res = await postOffer(`${other}/v1/rooms/r/whip`, 'tok', 'v=0\r\noffer');
    expect(res.url).toBe(`${hosting}/v1/rooms/r/whip`);
    expect(answerResource(res)).toBe(`${hosting}/v1/rooms/r/whip/p1`);
    expect(auths).toEqual(['Bearer tok', 'Bearer tok']);
  });

  it('stops after 3 redirects', async () => {
    const loop = await listen((req, res) => req.resume().on('end', () => res.writeHead(308, { location: '/again' }).end()));
    await expect(postOffer(`${loop}/x`, 't', 'o')).rejects.toThrow(/more than 3 redirects/);
  });
});
