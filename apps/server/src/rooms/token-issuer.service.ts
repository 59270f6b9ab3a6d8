import { Inject, Injectable } from '@nestjs/common';
import { ConflictError, DEFAULT_ROOM_OPTIONS, iceServersFor, signRoomToken, type TokenRequest } from '@app/core';
import type { AppConfig } from '@app/config';
import { ClusterService } from '../cluster/cluster.service';
import { APP_CONFIG } from '../tokens';

/** Issues room tokens (creating the room with defaults if needed); shared by the admin API and the dev endpoint. */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly cluster: ClusterService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(roomName: string, req: TokenRequest) {
    // a token for a room that does not exist yet creates it with defaults, placed like any new room (admission control
    // of the node it goes to applies: 503 before anything is created)
    if (!(await this.cluster.exists(roomName))) {
      await this.cluster.create(roomName, DEFAULT_ROOM_OPTIONS).catch((e: unknown) => {
        if (!(e instanceof ConflictError)) throw e; // created meanwhile by another request: fine
      });
    }
    const room = { name: roomName };
    const { token, claims } = signRoomToken(
      {
        room: room.name,
        identity: req.identity,
        displayName: req.displayName,
        canPublish: req.canPublish,
        canSubscribe: req.canSubscribe,
        ...(req.roomAdmin ? { roomAdmin: true } : {}),
        ...(req.invite ? { invite: { canPublish: req.canPublish, canSubscribe: req.canSubscribe } } : {}),
      },
      this.config.tokenSecret,
      { ttlSeconds: req.ttlSeconds, issuer: this.config.apiKey },
    );
    return {
      token,
      room: room.name,
      identity: req.identity,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      grants: claims.grants,
      // with TURN_SECRET, the turn: servers carry short-lived TURN REST credentials for this identity, ending with the token
      iceServers: iceServersFor(this.config.iceServers, { secret: this.config.turnSecret, ttlSeconds: this.config.turnTtlSeconds, identity: req.identity, notAfterSeconds: claims.exp }),
    };
  }
}
