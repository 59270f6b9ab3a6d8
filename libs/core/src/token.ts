import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from './errors';

/** What a room token grants. Serialized as JWT claims: `room`, `sub` (identity), `name`, `grants`. */
export interface TokenGrants {
  room: string;
  identity: string;
  displayName?: string;
  canPublish: boolean;
  canSubscribe: boolean;
  /** A hidden subscriber (a recorder or livestream worker) is not listed and does not keep a room from being empty. */
  hidden?: boolean;
  /**
   * The meeting's host: this token may also call this room's admin actions (layout and pin, recordings, livestreams,
   * HLS, tokens for this room) — never another room's, never `hidden`. Issued by an admin only.
   */
  roomAdmin?: boolean;
  /**
   * An invitation (a link many people may open): no session of its own (`canPublish`/`canSubscribe` are false); each
   * person exchanges it at `POST /v1/rooms/{room}/join` for a token of their own with these grants.
   */
  invite?: { canPublish: boolean; canSubscribe: boolean };
}

export interface TokenClaims {
  iss?: string;
  sub: string;
  room: string;
  name?: string;
  grants: { canPublish: boolean; canSubscribe: boolean; hidden?: boolean; roomAdmin?: boolean; invite?: { canPublish: boolean; canSubscribe: boolean } };
  iat: number;
  exp: number;
}

const b64url = (buf: Buffer): string => buf.toString('base64url');
const jsonB64 = (v: unknown): string => b64url(Buffer.from(JSON.stringify(v)));

/**
 * The keys room tokens are verified with. `current` signs them (TOKEN_SECRET); `previous` is still accepted during a
 * rotation (TOKEN_SECRET_PREVIOUS); `worker` (WORKER_SECRET) signs the workers' own tokens, and only those may be
 * `hidden` (an unlisted recorder/livestream subscriber) — and a worker-signed token must be exactly that, so the key a
 * worker host holds cannot publish or watch visibly. A plain string is `{ current }`.
 */
export interface TokenKeys {
  current: string;
  previous?: string;
  worker?: string;
  /**
   * MCU_API_SECRET while TOKEN_SECRET is not set: tokens without `kid` signed with it (apps written when tokens were
   * signed with the API secret, as the README said) are still accepted. Whoever holds it is an admin anyway; it never
   * makes a token `hidden`, and setting TOKEN_SECRET ends it.
   */
  legacy?: string;
}

/** A key's id in a token's `kid` header: a short HMAC of a fixed label under the key (names the key, reveals nothing of it). */
export function keyId(secret: string): string {
  return createHmac('sha256', secret).update('werift-mcu key id').digest('base64url').slice(0, 16);
}

/** Signs a JWT (HS256, with the key's `kid`) for the grants, valid for ttlSeconds from nowSeconds. */
export function signRoomToken(
  grants: TokenGrants,
  secret: string,
  opts: { ttlSeconds: number; nowSeconds?: number; issuer?: string },
): { token: string; claims: TokenClaims } {
  const iat = Math.floor(opts.nowSeconds ?? Date.now() / 1000);
  const claims: TokenClaims = {
    ...(opts.issuer ? { iss: opts.issuer } : {}),
    sub: grants.identity,
    room: grants.room,
    ...(grants.displayName ? { name: grants.displayName } : {}),
    grants: {
      // an invitation carries no session rights of its own: only what it hands on
      canPublish: grants.invite ? false : grants.canPublish,
      canSubscribe: grants.invite ? false : grants.canSubscribe,
      ...(grants.hidden ? { hidden: true } : {}),
      ...(grants.roomAdmin ? { roomAdmin: true } : {}),
      ...(grants.invite ? { invite: { canPublish: grants.invite.canPublish, canSubscribe: grants.invite.canSubscribe } } : {}),
    },
    iat,
    exp: iat + opts.ttlSeconds,
  };
  const head = jsonB64({ alg: 'HS256', typ: 'JWT', kid: keyId(secret) });
  const body = jsonB64(claims);
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return { token: `${head}.${body}.${sig}`, claims };
}

const signatureMatches = (secret: string, signed: string, sig: string): boolean => {
  const expected = createHmac('sha256', secret).update(signed).digest();
  const given = Buffer.from(sig, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/** The `exp` (unix seconds) of a room token, read without verifying it (do that first); undefined when it has none. */
export function tokenExpiry(token: string | undefined): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies algorithm, key, signature, expiry and what the key may sign; returns the grants. Throws UnauthorizedError
 * with a reason. A token with a `kid` is checked against that key only (an unknown kid is refused); one without (apps
 * signing their own tokens the old way) against the current and previous token keys, never the workers'.
 */
export function verifyRoomToken(token: string, keys: string | TokenKeys, nowSeconds = Date.now() / 1000): TokenGrants {
  return verifyRoomTokenClaims(token, keys, nowSeconds).grants;
}

/** `verifyRoomToken`, with when the token expires (unix seconds): what a token issued on its strength may not outlive. */
export function verifyRoomTokenClaims(token: string, keys: string | TokenKeys, nowSeconds = Date.now() / 1000): { grants: TokenGrants; expiresAt: number } {
  const ring: TokenKeys = typeof keys === 'string' ? { current: keys } : keys;
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new UnauthorizedError('token is not a JWT');
  }
  const [head, body, sig] = parts;
  let header: { alg?: unknown; kid?: unknown };
  let claims: Partial<TokenClaims>;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new UnauthorizedError('token is not a JWT');
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) throw new UnauthorizedError('token is not a JWT');
  if (header.alg !== 'HS256') throw new UnauthorizedError('token algorithm must be HS256');
  const tokenKeys = [ring.current, ...(ring.previous !== undefined ? [ring.previous] : [])];
  let candidates: Array<{ secret: string; worker: boolean }>;
  if (header.kid === undefined) candidates = [...tokenKeys, ...(ring.legacy !== undefined ? [ring.legacy] : [])].map((secret) => ({ secret, worker: false }));
  else {
    if (typeof header.kid !== 'string') throw new UnauthorizedError('token key id (kid) must be a string');
    const all = [...tokenKeys.map((secret) => ({ secret, worker: false })), ...(ring.worker !== undefined ? [{ secret: ring.worker, worker: true }] : [])];
    candidates = all.filter((k) => keyId(k.secret) === header.kid);
    if (!candidates.length) throw new UnauthorizedError('token key id (kid) is unknown');
  }
  const key = candidates.find((k) => signatureMatches(k.secret, `${head}.${body}`, sig));
  if (!key) throw new UnauthorizedError('token signature is invalid');
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
    throw new UnauthorizedError('token has expired', 'token_expired');
  }
  if (typeof claims.sub !== 'string' || typeof claims.room !== 'string' || typeof claims.grants !== 'object' || !claims.grants) {
    throw new UnauthorizedError('token is missing room, identity or grants');
  }
  const hidden = claims.grants.hidden === true;
  const roomAdmin = claims.grants.roomAdmin === true;
  const rawInvite: unknown = claims.grants.invite;
  if (rawInvite !== undefined && (typeof rawInvite !== 'object' || rawInvite === null)) throw new UnauthorizedError('token grants.invite must be an object');
  const invite = rawInvite as { canPublish?: unknown; canSubscribe?: unknown } | undefined;
  if (hidden && !key.worker) throw new UnauthorizedError("only tokens signed with the workers' key (WORKER_SECRET) may be hidden");
  if (key.worker && (!hidden || claims.grants.canPublish === true || roomAdmin || invite)) {
    throw new UnauthorizedError("a token signed with the workers' key (WORKER_SECRET) must be a hidden subscription");
  }
  if (invite && (roomAdmin || claims.grants.canPublish === true || claims.grants.canSubscribe === true)) {
    throw new UnauthorizedError('an invitation grants no session and no room admin rights of its own');
  }
  const grants: TokenGrants = {
    room: claims.room,
    identity: claims.sub,
    ...(typeof claims.name === 'string' ? { displayName: claims.name } : {}),
    canPublish: claims.grants.canPublish === true,
    canSubscribe: claims.grants.canSubscribe === true,
    ...(hidden ? { hidden: true } : {}),
    ...(roomAdmin ? { roomAdmin: true } : {}),
    ...(invite ? { invite: { canPublish: invite.canPublish === true, canSubscribe: invite.canSubscribe === true } } : {}),
  };
  return { grants, expiresAt: claims.exp };
}

/** Extracts the token from an `Authorization: Bearer …` header. */
export function bearerToken(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) throw new UnauthorizedError('missing "Authorization: Bearer <token>" header');
  return m[1];
}

/** Parses `Authorization: Basic …` into key and secret, or undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { key: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { key: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  // digests of equal length: the time taken says nothing about where, or whether by length, the strings differ
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A request URL fit for logs: the values of `token` (and `access_token`) query parameters replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_)?token=)[^&#]*/gi, '$1***');
}
