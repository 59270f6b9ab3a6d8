import { iceServersFor, type IceServerEntry, ForbiddenError, NotFoundError, type TokenGrants, type TokenKeys, UnauthorizedError, ValidationError, bearerToken, DomainError, verifyRoomToken } from '@app/core';
import type { AppConfig } from '@app/config';
import type { Request, Response } from 'express';
import { isAdmin } from '../http/admin-auth.guard';
import { roomTokenKeys } from '../http/room-token-keys';

/** Shared checks of WHIP/WHEP requests (content type, body, token, grants) and the 201 response shape. */
export function sdpOfferFrom(req: Request): string {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/sdp') {
    throw new DomainError('unsupported_media_type', `Content-Type must be application/sdp (got "${type || 'none'}")`);
  }
  const body: unknown = req.body;
  if (typeof body !== 'string' || body.trim() === '') throw new ValidationError('request body must be an SDP offer', 'invalid_sdp');
  return body;
}

/**
 * The room token of a WHIP/WHEP POST: `Authorization: Bearer`, or `?token=` (as the events WebSocket and HLS take it).
 * The query form survives a 307 to another node, which browsers' and Node's fetch follow without the Authorization
 * header when the node is another origin; the web client uses it.
 */
export function sessionToken(req: Request): string | undefined {
  if (req.headers.authorization) return bearerToken(req.headers.authorization);
  const q = req.query?.token;
  return typeof q === 'string' && q ? q : undefined;
}

export function grantsFor(req: Request, room: string, keys: TokenKeys, need: 'canPublish' | 'canSubscribe'): TokenGrants {
  const token = sessionToken(req);
  if (!token) throw new UnauthorizedError('missing "Authorization: Bearer <token>" header (or ?token=<token>)');
  const grants = verifyRoomToken(token, keys);
  if (grants.room !== room) throw new ForbiddenError(`token is for room "${grants.room}", not "${room}"`);
  if (!grants[need]) throw new ForbiddenError(`token does not grant ${need === 'canPublish' ? 'publishing' : 'subscribing'}`);
  return grants;
}

/** DELETE of a session: the same token's identity, or admin credentials. */
export function authorizeLeave(req: Request, room: string, identity: string, config: AppConfig): void {
  if (isAdmin(req, config)) return;
  if (!req.headers.authorization) throw new UnauthorizedError('missing "Authorization: Bearer <token>" header');
  const grants = verifyRoomToken(bearerToken(req.headers.authorization), roomTokenKeys(config));
  if (grants.room !== room || grants.identity !== identity) throw new ForbiddenError('token does not own this session');
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function resourceId(id: string): string {
  if (!UUID_RE.test(id)) throw new NotFoundError('no such session');
  return id;
}

/**
 * RFC 9725 §4.6: advertise the ICE servers clients should use (with TURN REST credentials for `identity` when
 * TURN_SECRET is set, expiring with the session's token at the latest).
 */
export function iceLinkHeaders(config: AppConfig, identity = '', notAfterSeconds?: number): string[] {
  const servers: IceServerEntry[] = iceServersFor(config.iceServers, { secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds, identity, notAfterSeconds });
  const links: string[] = [];
  for (const s of servers) {
    for (const url of s.urls) {
      const q = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
      let link = `<${url}>; rel="ice-server"`;
      if (s.username) link += `; username=${q(s.username)}`;
      if (s.credential) link += `; credential=${q(s.credential)}; credential-type="password"`;
      links.push(link);
    }
  }
  return links;
}

export function sendAnswer(res: Response, location: string, answer: string, config: AppConfig, identity?: string, notAfterSeconds?: number): void {
  res.status(201);
  res.setHeader('Location', location);
  res.setHeader('Content-Type', 'application/sdp');
  const links = iceLinkHeaders(config, identity, notAfterSeconds);
  if (links.length) res.setHeader('Link', links);
  res.send(answer);
}
