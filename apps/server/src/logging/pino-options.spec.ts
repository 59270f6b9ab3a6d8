import { pinoHttpOptions } from './pino-options';

describe('request logs', () => {
  it('never carry a viewer token from the query string', () => {
    const o = pinoHttpOptions({ logLevel: 'log' });
    const serialize = (o.serializers as { req: (r: { id: string; method: string; url: string }) => { url: string } }).req;
    expect(serialize({ id: '1', method: 'GET', url: '/v1/rooms/demo/hls/index.m3u8?token=eyJ.secret.sig' }).url).toBe('/v1/rooms/demo/hls/index.m3u8?token=***');
    const props = (o.customProps as (req: { url: string }) => Record<string, unknown>)({ url: '/v1/rooms/demo/hls/a.ts?token=eyJ.secret.sig' });
    expect(JSON.stringify(props)).not.toContain('secret');
  });
});
