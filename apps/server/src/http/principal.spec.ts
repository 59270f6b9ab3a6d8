import { DomainError, signRoomToken } from '@app/core';
import { assertManages, principalFor, scopedRoomFilter } from './principal';

const creds = { apiKey: 'key', apiSecret: 'secret-0123456789' };
const keys = { current: 'token-key-0123456789', worker: 'worker-key-0123456789' };
const basic = `Basic ${Buffer.from('key:secret-0123456789').toString('base64')}`;
const token = (room: string, extra: object = {}, ttlSeconds = 600) =>
  signRoomToken({ room, identity: 'host', canPublish: false, canSubscribe: true, ...extra }, keys.current, { ttlSeconds, nowSeconds: 1000 }).token;

/** The HTTP status the decision throws (or 200). */
const status = (fn: () => unknown): number => {
  try {
    fn();
    return 200;
  } catch (e) {
    const code = (e as DomainError).code;
    return code === 'forbidden' ? 403 : code === 'unauthorized' || code === 'token_expired' ? 401 : 500;
  }
};

describe('who may call an admin route', () => {
  const at = (req: Parameters<typeof principalFor>[0], allow = true) => principalFor(req, creds, keys, allow, 1001);

  it('admin credentials pass everywhere', () => {
    expect(at({ authorization: basic, method: 'PATCH', room: 'a' }, false)).toEqual({ kind: 'admin' });
    expect(status(() => at({ authorization: `Basic ${Buffer.from('key:wrong').toString('base64')}`, method: 'GET' }))).toBe(401);
  });

  it("a room admin token passes for its own room only, where the route allows it", () => {
    expect(at({ authorization: `Bearer ${token('a', { roomAdmin: true })}`, method: 'PATCH', room: 'a' })).toEqual({ kind: 'roomAdmin', room: 'a', identity: 'host', expiresAt: 1600 });
    expect(status(() => at({ authorization: `Bearer ${token('a', { roomAdmin: true })}`, method: 'PATCH', room: 'b' }))).toBe(403);
    // a route that names no room (a recording by id): allowed here, checked against the resource's room afterwards
    expect(at({ authorization: `Bearer ${token('a', { roomAdmin: true })}`, method: 'GET' })).toMatchObject({ room: 'a' });
    // not on admin-only routes (room creation, listing every room, deleting a room, nodes, …)
    expect(status(() => at({ authorization: `Bearer ${token('a', { roomAdmin: true })}`, method: 'DELETE', room: 'a' }, false))).toBe(401);
  });

  it('a participant token, an invitation, a bad or expired token are refused', () => {
    expect(status(() => at({ authorization: `Bearer ${token('a')}`, method: 'PATCH', room: 'a' }))).toBe(403);
    expect(status(() => at({ authorization: `Bearer ${token('a', { invite: { canPublish: true, canSubscribe: true } })}`, method: 'PATCH', room: 'a' }))).toBe(403);
    expect(status(() => at({ authorization: 'Bearer not.a.jwt', method: 'PATCH', room: 'a' }))).toBe(401);
    expect(status(() => at({ authorization: `Bearer ${token('a', { roomAdmin: true }, 0)}`, method: 'PATCH', room: 'a' }))).toBe(401);
    expect(status(() => at({ method: 'PATCH', room: 'a' }))).toBe(401);
  });

  it('takes ?token= on GET only (download links, thumbnails)', () => {
    expect(at({ queryToken: token('a', { roomAdmin: true }), method: 'GET' })).toMatchObject({ kind: 'roomAdmin' });
    expect(status(() => at({ queryToken: token('a', { roomAdmin: true }), method: 'POST', room: 'a' }))).toBe(401);
  });

  it('resources and lists of another room are refused to a room admin', () => {
    const p = { kind: 'roomAdmin' as const, room: 'a', identity: 'host', expiresAt: 0 };
    expect(() => assertManages(p, 'a')).not.toThrow();
    expect(status(() => assertManages(p, 'b'))).toBe(403);
    expect(() => assertManages({ kind: 'admin' }, 'b')).not.toThrow();
    expect(scopedRoomFilter(p, undefined)).toBe('a');
    expect(scopedRoomFilter(p, 'a')).toBe('a');
    expect(status(() => scopedRoomFilter(p, 'b'))).toBe(403);
    expect(scopedRoomFilter({ kind: 'admin' }, undefined)).toBeUndefined();
  });
});
