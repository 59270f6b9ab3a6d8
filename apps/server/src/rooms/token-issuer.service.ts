import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_ROOM_OPTIONS, iceServersFor, signRoomToken, type TokenRequest } from '@app/core';
import type { AppConfig } from '@app/config';
import { RoomManager } from '@app/media';
import { APP_CONFIG } from '../tokens';

/** Issues room tokens (creating the room with defaults if needed); shared by the admin API and the dev endpoint. */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  issue(roomName: string, req: TokenRequest) {
    const room = this.rooms.getOrCreate(roomName, DEFAULT_ROOM_OPTIONS);
    const { token, claims } = signRoomToken(
      { room: room.name, identity: req.identity, displayName: req.displayName, canPublish: req.canPublish, canSubscribe: req.canSubscribe },
      this.config.apiSecret,
      { ttlSeconds: req.ttlSeconds, issuer: this.config.apiKey },
    );
    return {
      token,
      room: room.name,
      identity: req.identity,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      grants: claims.grants,
      // with TURN_SECRET, the turn: servers carry short-lived TURN REST credentials for this identity
      iceServers: iceServersFor(this.config.iceServers, { secret: this.config.turnSecret, ttlSeconds: this.config.turnTtlSeconds, identity: req.identity }),
    };
  }
}
