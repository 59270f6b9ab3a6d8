import { Body, Controller, Delete, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { NotFoundError } from '@app/core';
import { LIVESTREAM_ID_RE, livestreamView } from '@app/jobs';
import { AdmissionService } from '../admission/admission.service';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { roomParam } from '../rooms/rooms.controller';
import { LivestreamsService } from './livestreams.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

const idParam = (id: string): string => {
  if (!LIVESTREAM_ID_RE.test(id)) throw new NotFoundError('livestream not found');
  return id;
};

/** Livestream (RTMP push) REST API, admin auth. Responses always carry the masked URL. */
@Controller('v1')
@UseGuards(AdminAuthGuard)
export class LivestreamsController {
  constructor(
    private readonly livestreams: LivestreamsService,
    private readonly admission: AdmissionService,
  ) {}

  @Post('rooms/:name/livestreams')
  @UseGuards(AcceptingGuard)
  async start(@Param('name') name: string, @Body() body: unknown) {
    this.admission.check({ kind: 'output', room: roomParam(name) }); // 503 capacity_exceeded before a job is queued
    return livestreamView(await this.livestreams.create(name, body));
  }

  @Get('livestreams')
  async list(@Query() q: { room?: string; status?: string; limit?: string }) {
    return { items: (await this.livestreams.list(q)).map(livestreamView) };
  }

  @Get('livestreams/:id')
  async get(@Param('id') id: string) {
    return livestreamView(await this.livestreams.get(idParam(id)));
  }

  /** Stops the push: 200 with the final record (`stopped`), kept for GET afterwards. */
  @Delete('livestreams/:id')
  async remove(@Param('id') id: string) {
    return livestreamView(await this.livestreams.stop(idParam(id)));
  }
}
