import { bearerToken, ForbiddenError, parseBasicAuth, safeEqual, type TokenKeys, UnauthorizedError, verifyRoomTokenClaims } from '@app/core';

/**
 * Who calls an admin route: the operator (`Authorization: Basic` with MCU_API_KEY:MCU_API_SECRET), or a meeting's
 * host holding a room token with the `roomAdmin` grant, who may act on that one room only.
 */
export type Principal = { kind: 'admin' } | { kind: 'roomAdmin'; room: string; identity: string; expiresAt: number };

export const ADMIN_REQUIRED = 'admin credentials required: Authorization: Basic base64(MCU_API_KEY:MCU_API_SECRET)';

export interface AuthRequest {
  authorization?: string;
  /** `?token=`: taken on GET only (download links and <img> cannot send headers). */
  queryToken?: string;
  method: string;
  /** The room the route names (`:name`), when it names one. */
  room?: string;
}

export function isAdminAuth(authorization: string | undefined, creds: { apiKey: string; apiSecret: string }): boolean {
  const c = parseBasicAuth(authorization);
  if (!c) return false;
  // both compared every time: whether the key alone was right is not told by the time taken
  const keyOk = safeEqual(c.key, creds.apiKey);
  const secretOk = safeEqual(c.secret, creds.apiSecret);
  return keyOk && secretOk;
}

/**
 * Decides who calls: admin credentials pass everywhere; where `allowRoomAdmin`, a room token with `roomAdmin` passes for
 * its own room (a route naming another room is a 403). Throws 401 (no or bad credentials, a bad or expired token) or
 * 403 (a valid token without the grant, or of another room).
 */
export function principalFor(req: AuthRequest, creds: { apiKey: string; apiSecret: string }, keys: TokenKeys, allowRoomAdmin: boolean, nowSeconds?: number): Principal {
  if (isAdminAuth(req.authorization, creds)) return { kind: 'admin' };
  if (!allowRoomAdmin) throw new UnauthorizedError(ADMIN_REQUIRED);
  const bearer = /^Bearer\s/i.test(req.authorization ?? '');
  const token = bearer ? bearerToken(req.authorization) : req.method === 'GET' && req.queryToken ? req.queryToken : undefined;
  if (!token) throw new UnauthorizedError(`${ADMIN_REQUIRED}, or "Authorization: Bearer <room admin token>"`);
  const { grants, expiresAt } = verifyRoomTokenClaims(token, keys, nowSeconds);
  if (!grants.roomAdmin) throw new ForbiddenError('this token does not grant room admin actions (roomAdmin)');
  if (req.room !== undefined && req.room !== grants.room) throw new ForbiddenError(`token is for room "${grants.room}", not "${req.room.slice(0, 64)}"`);
  return { kind: 'roomAdmin', room: grants.room, identity: grants.identity, expiresAt };
}

/** A resource of `room` (a recording, a livestream) reached by its id: a room admin of another room is refused. */
export function assertManages(p: Principal | undefined, room: string): void {
  if (p?.kind === 'roomAdmin' && p.room !== room) throw new ForbiddenError(`token is for room "${p.room}", not "${room}"`);
}

/** A list filtered by `?room=`: a room admin sees its own room only (the filter defaults to it). */
export function scopedRoomFilter(p: Principal | undefined, room: string | undefined): string | undefined {
  if (p?.kind !== 'roomAdmin') return room;
  if (room !== undefined && room !== p.room) throw new ForbiddenError(`token is for room "${p.room}", not "${room.slice(0, 64)}"`);
  return p.room;
}
