import { createHmac } from 'node:crypto';
import { UnauthorizedError } from './errors';
import { bearerToken, keyId, parseBasicAuth, redactUrl, safeEqual, signRoomToken, verifyRoomToken, verifyRoomTokenClaims } from './token';

const grants = { room: 'standup', identity: 'alice', displayName: 'Alice', canPublish: true, canSubscribe: false };

describe('room tokens', () => {
  it('round-trips grants', () => {
    const { token, claims } = signRoomToken(grants, 's3cret', { ttlSeconds: 60, nowSeconds: 1000 });
    expect(claims.exp).toBe(1060);
    expect(verifyRoomToken(token, 's3cret', 1001)).toEqual(grants);
  });

  it('is a standard HS256 JWT naming its key', () => {
    const { token } = signRoomToken(grants, 'k', { ttlSeconds: 60, nowSeconds: 0 });
    const [h, b, s] = token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: keyId('k') });
    expect(keyId('k')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(keyId('k')).not.toBe(keyId('l'));
    expect(JSON.parse(Buffer.from(b, 'base64url').toString())).toMatchObject({ sub: 'alice', room: 'standup' });
    expect(s).toBe(createHmac('sha256', 'k').update(`${h}.${b}`).digest('base64url'));
  });

  it('rejects a wrong secret, a tampered body, expiry and alg none', () => {
    const { token } = signRoomToken(grants, 'k', { ttlSeconds: 60, nowSeconds: 0 });
    expect(() => verifyRoomToken(token, 'other', 1)).toThrow('kid'); // signed by a key that is not there
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

describe('token keys', () => {
  const keys = { current: 'token-key', previous: 'old-token-key', worker: 'worker-key' };
  const hidden = { room: 'standup', identity: 'recorder-1', canPublish: false, canSubscribe: true, hidden: true };
  const raw = (header: object, claims: object, secret: string) => {
    const h = Buffer.from(JSON.stringify(header)).toString('base64url');
    const b = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${h}.${b}.${createHmac('sha256', secret).update(`${h}.${b}`).digest('base64url')}`;
  };
  const claims = { sub: 'alice', room: 'standup', grants: { canPublish: true, canSubscribe: true }, exp: 100 };

  it('accepts the current and the previous token key; refuses others, an unknown kid and a kid of one key signed by another', () => {
    expect(verifyRoomToken(signRoomToken(grants, 'token-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toEqual(grants);
    expect(verifyRoomToken(signRoomToken(grants, 'old-token-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toEqual(grants);
    expect(() => verifyRoomToken(signRoomToken(grants, 'webhook-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toThrow('kid');
    expect(() => verifyRoomToken(raw({ alg: 'HS256', kid: 'nope' }, claims, 'token-key'), keys, 1)).toThrow('kid) is unknown');
    expect(() => verifyRoomToken(raw({ alg: 'HS256', kid: keyId('old-token-key') }, claims, 'other'), keys, 1)).toThrow('signature');
    expect(() => verifyRoomToken(raw({ alg: 'HS256', kid: 7 }, claims, 'token-key'), keys, 1)).toThrow('kid');
  });

  it('accepts a token without kid from the token keys, never from the workers\' key', () => {
    expect(verifyRoomToken(raw({ alg: 'HS256' }, claims, 'old-token-key'), keys, 1)).toMatchObject({ identity: 'alice' });
    expect(() => verifyRoomToken(raw({ alg: 'HS256' }, { ...claims, grants: { canSubscribe: true, hidden: true } }, 'worker-key'), keys, 1)).toThrow('signature');
  });

  it('accepts a token without kid signed with the legacy key (MCU_API_SECRET while TOKEN_SECRET is unset), never a hidden one', () => {
    const withLegacy = { ...keys, legacy: 'api-secret' };
    expect(verifyRoomToken(raw({ alg: 'HS256' }, claims, 'api-secret'), withLegacy, 1)).toMatchObject({ identity: 'alice' });
    expect(() => verifyRoomToken(raw({ alg: 'HS256' }, claims, 'api-secret'), keys, 1)).toThrow('signature');
    expect(() => verifyRoomToken(raw({ alg: 'HS256' }, { ...claims, grants: { canSubscribe: true, hidden: true } }, 'api-secret'), withLegacy, 1)).toThrow('may be hidden');
    expect(() => verifyRoomToken(raw({ alg: 'HS256', kid: keyId('api-secret') }, claims, 'api-secret'), withLegacy, 1)).toThrow('kid) is unknown');
  });

  it('only worker-signed tokens may be hidden, and worker-signed tokens must be hidden subscriptions', () => {
    expect(verifyRoomToken(signRoomToken(hidden, 'worker-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toEqual(hidden);
    expect(() => verifyRoomToken(signRoomToken(hidden, 'token-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toThrow('may be hidden');
    expect(() => verifyRoomToken(signRoomToken(hidden, 'k', { ttlSeconds: 60, nowSeconds: 0 }).token, 'k', 1)).toThrow('may be hidden');
    expect(() => verifyRoomToken(signRoomToken({ ...hidden, hidden: false }, 'worker-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toThrow('hidden subscription');
    expect(() => verifyRoomToken(signRoomToken({ ...hidden, canPublish: true }, 'worker-key', { ttlSeconds: 60, nowSeconds: 0 }).token, keys, 1)).toThrow('hidden subscription');
  });
});

describe('room admin and invitation grants', () => {
  const keys = { current: 'token-key', worker: 'worker-key' };
  const sign = (g: object, secret = 'token-key') => signRoomToken({ room: 'standup', identity: 'host', canPublish: true, canSubscribe: true, ...g }, secret, { ttlSeconds: 60, nowSeconds: 0 }).token;
  const raw = (claims: object, secret = 'token-key') => {
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', kid: keyId(secret) })).toString('base64url');
    const b = Buffer.from(JSON.stringify({ sub: 'x', room: 'standup', exp: 100, ...claims })).toString('base64url');
    return `${h}.${b}.${createHmac('sha256', secret).update(`${h}.${b}`).digest('base64url')}`;
  };

  it('round-trips roomAdmin, and says when the token expires', () => {
    expect(verifyRoomToken(sign({ roomAdmin: true }), keys, 1)).toEqual({ room: 'standup', identity: 'host', canPublish: true, canSubscribe: true, roomAdmin: true });
    expect(verifyRoomToken(sign({}), keys, 1)).not.toHaveProperty('roomAdmin');
    expect(verifyRoomTokenClaims(sign({ roomAdmin: true }), keys, 1).expiresAt).toBe(60);
    // only `true` makes a room admin
    expect(verifyRoomToken(raw({ grants: { canPublish: true, roomAdmin: 'yes' } }), keys, 1)).not.toHaveProperty('roomAdmin');
  });

  it('an invitation carries no session rights of its own, only what it hands on', () => {
    const { claims } = signRoomToken({ room: 'standup', identity: 'invite', canPublish: true, canSubscribe: true, invite: { canPublish: true, canSubscribe: true } }, 'token-key', { ttlSeconds: 60 });
    expect(claims.grants).toEqual({ canPublish: false, canSubscribe: false, invite: { canPublish: true, canSubscribe: true } });
    expect(verifyRoomToken(sign({ invite: { canPublish: false, canSubscribe: true } }), keys, 1)).toEqual({
      room: 'standup',
      identity: 'host',
      canPublish: false,
      canSubscribe: false,
      invite: { canPublish: false, canSubscribe: true },
    });
    // a hand-made invitation that also grants a session, or room admin, is refused
    expect(() => verifyRoomToken(raw({ grants: { canPublish: true, canSubscribe: false, invite: { canPublish: true } } }), keys, 1)).toThrow('invitation');
    expect(() => verifyRoomToken(raw({ grants: { canPublish: false, canSubscribe: false, roomAdmin: true, invite: { canPublish: true } } }), keys, 1)).toThrow('invitation');
    expect(() => verifyRoomToken(raw({ grants: { canPublish: false, canSubscribe: false, invite: 'all' } }), keys, 1)).toThrow('invite');
  });

  it("the workers' key never signs a room admin or an invitation", () => {
    expect(() => verifyRoomToken(raw({ grants: { canSubscribe: true, hidden: true, roomAdmin: true } }, 'worker-key'), keys, 1)).toThrow('hidden subscription');
    expect(() => verifyRoomToken(raw({ grants: { canSubscribe: false, hidden: true, invite: { canSubscribe: true } } }, 'worker-key'), keys, 1)).toThrow('hidden subscription');
    // and a room admin is never hidden: `hidden` needs the workers' key
    expect(() => verifyRoomToken(sign({ roomAdmin: true, hidden: true }), keys, 1)).toThrow('may be hidden');
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

describe('safeEqual (admin credentials, metrics token)', () => {
  // Constant time is by construction (timingSafeEqual on two SHA-256 digests); here: right answers for any lengths.
  it('is true only for equal strings, whatever their lengths and characters', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('secret', 's')).toBe(false);
    expect(safeEqual('', 'secret-that-is-much-longer')).toBe(false);
    expect(safeEqual('sécret', 'secret')).toBe(false);
    expect(safeEqual('x'.repeat(10_000), `${'x'.repeat(9_999)}y`)).toBe(false);
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
