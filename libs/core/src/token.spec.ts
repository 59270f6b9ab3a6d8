import { createHmac } from 'node:crypto';
import { UnauthorizedError } from './errors';
import { bearerToken, parseBasicAuth, redactUrl, safeEqual, signRoomToken, verifyRoomToken } from './token';

const grants = { room: 'standup', identity: 'alice', displayName: 'Alice', canPublish: true, canSubscribe: false };

describe('room tokens', () => {
  it('round-trips grants', () => {
    const { token, claims } = signRoomToken(grants, 's3cret', { ttlSeconds: 60, nowSeconds: 1000 });
    expect(claims.exp).toBe(1060);
    expect(verifyRoomToken(token, 's3cret', 1001)).toEqual(grants);
  });

  it('is a standard HS256 JWT', () => {
    const { token } = signRoomToken(grants, 'k', { ttlSeconds: 60, nowSeconds: 0 });
    const [h, b, s] = token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(b, 'base64url').toString())).toMatchObject({ sub: 'alice', room: 'standup' });
    expect(s).toBe(createHmac('sha256', 'k').update(`${h}.${b}`).digest('base64url'));
  });

  it('rejects a wrong secret, a tampered body, expiry and alg none', () => {
    const { token } = signRoomToken(grants, 'k', { ttlSeconds: 60, nowSeconds: 0 });
    expect(() => verifyRoomToken(token, 'other', 1)).toThrow('signature');
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'mallory', room: 'standup', grants: {}, exp: 99 })).toString('base64url');
    expect(() => verifyRoomToken(`${h}.${forged}.${s}`, 'k', 1)).toThrow('signature');
    try {
      verifyRoomToken(token, 'k', 61);
      throw new Error('expected expiry');
    } catch (e) {
      expect(e).toBeInstanceOf(UnauthorizedError);
      expect((e as UnauthorizedError).code).toBe('token_expired');
    }
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(() => verifyRoomToken(`${none}.${token.split('.')[1]}.`, 'k', 1)).toThrow('HS256');
    expect(() => verifyRoomToken('garbage', 'k', 1)).toThrow('not a JWT');
  });
});

describe('auth headers', () => {
  it('parses bearer and basic', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(() => bearerToken(undefined)).toThrow(UnauthorizedError);
    expect(() => bearerToken('Basic abc')).toThrow(UnauthorizedError);
    expect(parseBasicAuth(`Basic ${Buffer.from('key:sec:ret').toString('base64')}`)).toEqual({ key: 'key', secret: 'sec:ret' });
    expect(parseBasicAuth('Basic !!')).toBeUndefined();
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });
});

describe('redactUrl', () => {
  it('hides token query values (HLS viewers send them on every request) and keeps the rest', () => {
    expect(redactUrl('/v1/rooms/demo/hls/index.m3u8?token=eyJa.b.c')).toBe('/v1/rooms/demo/hls/index.m3u8?token=***');
    expect(redactUrl('/x?a=1&TOKEN=s3cret&b=2#f')).toBe('/x?a=1&TOKEN=***&b=2#f');
    expect(redactUrl('/x?access_token=abc')).toBe('/x?access_token=***');
    expect(redactUrl('/v1/rooms/token=not-a-query')).toBe('/v1/rooms/token=not-a-query');
  });
});
