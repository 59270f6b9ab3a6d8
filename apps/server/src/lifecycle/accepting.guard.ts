import { type CanActivate, Injectable } from '@nestjs/common';
import { ShutdownService } from './shutdown.service';

/**
 * On every route that starts something new (rooms, tokens, WHIP/WHEP sessions, recordings, livestreams, HLS): 503
 * `shutting_down` once a graceful shutdown began, so nothing new starts on a draining node.
 */
@Injectable()
export class AcceptingGuard implements CanActivate {
  constructor(private readonly shutdown: ShutdownService) {}

  canActivate(): boolean {
    this.shutdown.assertAccepting();
    return true;
  }
}
