import { corsOpenPath, isCrossOrigin } from './cross-origin';

describe('corsOpenPath', () => {
  it('opens the bearer-token routes only', () => {
    for (const p of ['/v1/rooms/a/whip', '/v1/rooms/a/whep', '/v1/rooms/a/whip/3f2a', '/v1/rooms/a/hls/index.m3u8?token=x', '/v1/dev/tokens', '/healthz']) expect([p, corsOpenPath(p)]).toEqual([p, true]);
    for (const p of ['/v1/rooms', '/v1/rooms/a', '/v1/rooms/a/tokens', '/v1/rooms/a/hls', '/v1/recordings', '/v1/livestreams/x', '/metrics', '/admin/queues', '/v1/rooms/a/whip/x/y'])
      expect([p, corsOpenPath(p)]).toEqual([p, false]);
  });
});

describe('isCrossOrigin', () => {
  it('is true for another origin, null or cross-site fetch metadata; false for the same host or no browser headers', () => {
    expect(isCrossOrigin({ host: 'mcu:3000' })).toBe(false);
    expect(isCrossOrigin({ host: 'mcu:3000', origin: 'http://mcu:3000' })).toBe(false);
    expect(isCrossOrigin({ host: 'mcu:3000', origin: 'https://evil.example' })).toBe(true);
    expect(isCrossOrigin({ host: 'mcu:3000', origin: 'null' })).toBe(true);
    expect(isCrossOrigin({ host: 'mcu:3000', 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(isCrossOrigin({ host: 'mcu:3000', 'sec-fetch-site': 'same-origin', origin: 'http://mcu:3000' })).toBe(false);
  });
});
