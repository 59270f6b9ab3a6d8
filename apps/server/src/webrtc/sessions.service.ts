import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, type SourceKind, ValidationError } from '@app/core';
import type { AppConfig } from '@app/config';
import { RoomManager } from '@app/media';
import type { Request, Response } from 'express';
import { roomParam } from '../rooms/rooms.controller';
import { APP_CONFIG } from '../tokens';
import { authorizeLeave, grantsFor, resourceId, sdpOfferFrom, sendAnswer } from './sdp-exchange';

export type SessionKind = 'whip' | 'whep';
const ROLE = { whip: 'publisher', whep: 'subscriber' } as const;

/** `?source=screen` publishes a screen share beside the camera; the default is the camera. */
function publishSource(q: unknown): SourceKind {
  if (q === undefined || q === 'camera') return 'camera';
  if (q === 'screen') return 'screen';
  throw new ValidationError('source must be "camera" or "screen"');
}

/** WHIP and WHEP share their HTTP handling; only the grant and the room method differ. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async offer(kind: SessionKind, name: string, req: Request, res: Response): Promise<void> {
    const grants = grantsFor(req, roomParam(name), this.config.apiSecret, kind === 'whip' ? 'canPublish' : 'canSubscribe');
    const offer = sdpOfferFrom(req);
    const room = this.rooms.get(name);
    const { id, answer } = kind === 'whip' ? await room.publish(grants, offer, publishSource(req.query.source)) : await room.subscribe(grants, offer);
    sendAnswer(res, `/v1/rooms/${encodeURIComponent(room.name)}/${kind}/${id}`, answer, this.config, grants.identity);
  }

  leave(kind: SessionKind, name: string, id: string, req: Request): { ok: true } {
    const room = this.rooms.get(roomParam(name));
    const session = room.resource(ROLE[kind], resourceId(id));
    if (!session) throw new NotFoundError(`no such ${kind.toUpperCase()} session`);
    authorizeLeave(req, room.name, session.identity, this.config);
    room.leave(ROLE[kind], id);
    return { ok: true };
  }
}
