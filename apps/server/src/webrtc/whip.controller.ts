import { All, Controller, Delete, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { DomainError } from '@app/core';
import type { Request, Response } from 'express';
import { AcceptingGuard } from '../lifecycle/accepting.guard';
import { SessionsService } from './sessions.service';

const noTrickle = (kind: string) =>
  new DomainError('method_not_allowed', `trickle ICE and ICE restarts (PATCH) are not supported; only DELETE is allowed on a ${kind} session`);

/** WHIP (RFC 9725): publish camera and microphone into a room. */
@Controller('v1/rooms/:name/whip')
export class WhipController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @UseGuards(AcceptingGuard)
  publish(@Param('name') name: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.sessions.offer('whip', name, req, res);
  }

  @Delete(':id')
  @HttpCode(200)
  leave(@Param('name') name: string, @Param('id') id: string, @Req() req: Request) {
    return this.sessions.leave('whip', name, id, req);
  }

  @All(':id')
  other(): never {
    throw noTrickle('WHIP');
  }
}

/** WHEP: subscribe to the room's mix (one composite video, one audio mix; mix-minus for publishers). */
@Controller('v1/rooms/:name/whep')
export class WhepController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @UseGuards(AcceptingGuard)
  subscribe(@Param('name') name: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.sessions.offer('whep', name, req, res);
  }

  @Delete(':id')
  @HttpCode(200)
  leave(@Param('name') name: string, @Param('id') id: string, @Req() req: Request) {
    return this.sessions.leave('whep', name, id, req);
  }

  @All(':id')
  other(): never {
    throw noTrickle('WHEP');
  }
}
