import { createHmac } from 'node:crypto';

/** A STUN/TURN server as a client (RTCPeerConnection, WHIP Link header) sees it. */
export interface IceServerEntry {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which the TURN server refuses them. */
  expiresAt: number;
}

/**
 * Short-lived TURN credentials in coturn's TURN REST scheme (`use-auth-secret` + `static-auth-secret`):
 * username = `<expiry unix timestamp>:<identity>`, password = base64(HMAC-SHA1(secret, username)).
 */
export function turnCredentials(secret: string, identity: string, ttlSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): TurnCredentials {
  const expiresAt = Math.floor(nowSeconds) + Math.floor(ttlSeconds);
  const username = `${expiresAt}:${identity}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64'), expiresAt };
}

export const isTurnUrl = (url: string): boolean => /^turns?:/i.test(url);

/**
 * The ICE servers for one client. With a TURN secret, every server with a `turn:`/`turns:` URL and no credentials of its
 * own gets REST credentials for `identity`; STUN servers and servers with static credentials are handed out as they are.
 * The credentials expire after `ttlSeconds` (TURN_TTL_SECONDS) or with the room token they come with
 * (`notAfterSeconds`, its `exp`), whichever is first: a relay is no longer open to whoever held an expired token.
 */
export function iceServersFor(
  servers: readonly IceServerEntry[],
  turn: { secret?: string; ttlSeconds: number; identity: string; nowSeconds?: number; notAfterSeconds?: number },
): IceServerEntry[] {
  if (!turn.secret) return servers.map((s) => ({ ...s }));
  const now = Math.floor(turn.nowSeconds ?? Date.now() / 1000);
  const ttl = turn.notAfterSeconds === undefined ? turn.ttlSeconds : Math.max(0, Math.min(turn.ttlSeconds, Math.floor(turn.notAfterSeconds) - now));
  const creds = turnCredentials(turn.secret, turn.identity, ttl, now);
  return servers.map((s) =>
    s.urls.some(isTurnUrl) && s.username === undefined ? { ...s, username: creds.username, credential: creds.credential } : { ...s },
  );
}
