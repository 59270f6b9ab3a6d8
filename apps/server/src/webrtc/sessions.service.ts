import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type AdmissionRequest, NotFoundError, redirectLocation, replacesSession, type SourceKind, tokenExpiry, ValidationError } from '@app/core';
import type { AppConfig } from '@app/config';
import { logLine, RoomManager } from '@app/media';
import type { Request, Response } from 'express';
import { AdmissionService, type SessionOwner } from '../admission/admission.service';
import { ClusterService } from '../cluster/cluster.service';
import { roomParam } from '../rooms/rooms.controller';
import { roomTokenKeys } from '../http/room-token-keys';
import { APP_CONFIG } from '../tokens';
import { authorizeLeave, grantsFor, resourceId, sdpOfferFrom, sendAnswer, sessionToken } from './sdp-exchange';

export type SessionKind = 'whip' | 'whep';
const ROLE = { whip: 'publisher', whep: 'subscriber' } as const;

/** `?source=screen` publishes a screen share beside the camera; the default is the camera. */
function publishSource(q: unknown): SourceKind {
  if (q === undefined || q === 'camera') return 'camera';
  if (q === 'screen') return 'screen';
  throw new ValidationError('source must be "camera" or "screen"');
}

/**
 * WHIP and WHEP share their HTTP handling; only the grant and the room method differ. A POST for a room whose media runs
 * on another node is answered `307 Temporary Redirect` to that node's URL for the same path (RFC 9725 §4.5); a DELETE
 * of a session is forwarded to the node that has it, wherever it lands.
 */
@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sessions');

  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly admission: AdmissionService,
    private readonly cluster: ClusterService,
  ) {}

  onApplicationBootstrap(): void {
    this.cluster.handle('leave', async (a) => {
      const kind = a.kind === 'whip' ? 'whip' : 'whep';
      const req = { headers: { authorization: typeof a.authorization === 'string' ? a.authorization : undefined } } as unknown as Request;
      return this.leave(kind, String(a.room), String(a.id), req, false);
    });
  }

  async offer(kind: SessionKind, name: string, req: Request, res: Response): Promise<void> {
    const grants = grantsFor(req, roomParam(name), roomTokenKeys(this.config), kind === 'whip' ? 'canPublish' : 'canSubscribe');
    const offer = sdpOfferFrom(req);
    const where = await this.cluster.locate(name);
    if (where.kind === 'remote') {
      const location = redirectLocation(where.node.url, req.originalUrl);
      this.logger.debug(logLine(`${kind.toUpperCase()} ${grants.identity} of room ${name}: the room runs on node ${where.node.id}; 307 to ${where.node.url}`, { room: name, identity: grants.identity }));
      res.status(307).setHeader('Location', location);
      res.json({ redirect: location, node: where.node.id });
      return;
    }
    const room = where.room;
    // admitted (or a 503 naming the limit) before any peer connection is made; a session replacing its own adds nothing
    let start: () => Promise<{ id: string; answer: string }>;
    let request: AdmissionRequest;
    // one session of an identity is set up at a time per slot (concurrent POSTs of one token: 409); hidden outputs have their own ids
    let owner: SessionOwner | undefined;
    if (kind === 'whip') {
      const source = publishSource(req.query.source);
      request = { kind: 'publisher', room: room.name, replaces: replacesSession(room.participants(), grants.identity, 'publisher', source) };
      owner = { identity: grants.identity, slot: `publisher:${source}` };
      start = () => room.publish(grants, offer, source);
    } else {
      request = grants.hidden ? { kind: 'output', room: room.name } : { kind: 'subscriber', room: room.name, replaces: replacesSession(room.participants(), grants.identity, 'subscriber') };
      if (!grants.hidden) owner = { identity: grants.identity, slot: 'subscriber' };
      start = () => room.subscribe(grants, offer);
    }
    const { id, answer } = await this.admission.admitWhile(request, start, owner);
    sendAnswer(res, `/v1/rooms/${encodeURIComponent(room.name)}/${kind}/${id}`, answer, this.config, grants.identity, tokenExpiry(sessionToken(req)));
  }

  async leave(kind: SessionKind, name: string, id: string, req: Request, forward = true): Promise<{ ok: true }> {
    roomParam(name);
    resourceId(id);
    const room = this.rooms.find(name);
    const session = room?.resource(ROLE[kind], id);
    if (!room || !session) {
      // the session may be on the node hosting the room
      const where = forward ? await this.cluster.whereIs(name) : undefined;
      if (where?.kind === 'remote') return this.cluster.call(where.node, 'leave', { kind, room: name, id, authorization: req.headers.authorization });
      if (!room && !(await this.cluster.exists(name))) throw new NotFoundError(`room "${name.slice(0, 64)}" not found`);
      throw new NotFoundError(`no such ${kind.toUpperCase()} session`);
    }
    authorizeLeave(req, room.name, session.identity, this.config);
    await room.leave(ROLE[kind], id);
    return { ok: true };
  }
}
