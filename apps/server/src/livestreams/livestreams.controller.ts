import { Body, Controller, Delete, Get, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { NotFoundError } from '@app/core';
import { LIVESTREAM_ID_RE, livestreamView } from '@app/jobs';
import { AdmissionService } from '../admission/admission.service';
import { AdminAuthGuard, principalOf, RoomAdminAllowed } from '../http/admin-auth.guard';
import { assertManages, scopedRoomFilter } from '../http/principal';
import { roomParam } from '../rooms/rooms.controller';
import { LivestreamsService } from './livestreams.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

const idParam = (id: string): string => {
  if (!LIVESTREAM_ID_RE.test(id)) throw new NotFoundError('livestream not found');
  return id;
};

/**
 * Livestream (RTMP push) REST API, admin auth; a room admin token may start, list and stop its own room's.
 * Responses always carry the masked URL.
 */
@Controller('v1')
@UseGuards(AdminAuthGuard)
export class LivestreamsController {
  constructor(
    private readonly livestreams: LivestreamsService,
    private readonly admission: AdmissionService,
  ) {}

  @Post('rooms/:name/livestreams')
  @RoomAdminAllowed()
  @UseGuards(AcceptingGuard)
  async start(@Param('name') name: string, @Body() body: unknown) {
    this.admission.check({ kind: 'output', room: roomParam(name) }); // 503 capacity_exceeded before a job is queued
    return livestreamView(await this.livestreams.create(name, body));
  }

  @Get('livestreams')
  @RoomAdminAllowed()
  async list(@Query() q: { room?: string; status?: string; limit?: string }, @Req() req: Request) {
    const room = scopedRoomFilter(principalOf(req), q.room);
    return { items: (await this.livestreams.list({ ...q, ...(room !== undefined ? { room } : {}) })).map(livestreamView) };
  }

  @Get('livestreams/:id')
  @RoomAdminAllowed()
  async get(@Param('id') id: string, @Req() req: Request) {
    const ls = await this.livestreams.get(idParam(id));
    assertManages(principalOf(req), ls.room);
    return livestreamView(ls);
  }

  /** Stops the push: 200 with the final record (`stopped`), kept for GET afterwards. */
  @Delete('livestreams/:id')
  @RoomAdminAllowed()
  async remove(@Param('id') id: string, @Req() req: Request) {
    assertManages(principalOf(req), (await this.livestreams.get(idParam(id))).room);
    return livestreamView(await this.livestreams.stop(id));
  }
}
