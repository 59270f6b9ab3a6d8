import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { NotFoundError } from '@app/core';
import { RECORDING_ID_RE, recordingView } from '@app/jobs';
import type { Request, Response } from 'express';
import { AdmissionService } from '../admission/admission.service';
import { AdminAuthGuard, principalOf, RoomAdminAllowed } from '../http/admin-auth.guard';
import { assertManages, scopedRoomFilter } from '../http/principal';
import { roomParam } from '../rooms/rooms.controller';
import { RecordingsService } from './recordings.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

const idParam = (id: string): string => {
  if (!RECORDING_ID_RE.test(id)) throw new NotFoundError('recording not found');
  return id;
};

/**
 * Recording REST API (admin auth). A room admin token (the meeting's host) may start, stop, list and download its own
 * room's recordings; deleting stays with the admin.
 */
@Controller('v1')
@UseGuards(AdminAuthGuard)
export class RecordingsController {
  constructor(
    private readonly recordings: RecordingsService,
    private readonly admission: AdmissionService,
  ) {}

  @Post('rooms/:name/recordings')
  @RoomAdminAllowed()
  @UseGuards(AcceptingGuard)
  async start(@Param('name') name: string, @Body() body: unknown) {
    this.admission.check({ kind: 'output', room: roomParam(name) }); // 503 capacity_exceeded before a job is queued
    return recordingView(await this.recordings.create(name, body));
  }

  @Get('recordings')
  @RoomAdminAllowed()
  list(@Query() q: { room?: string; status?: string; limit?: string; cursor?: string }, @Req() req: Request) {
    const room = scopedRoomFilter(principalOf(req), q.room);
    return this.recordings.list({ ...q, ...(room !== undefined ? { room } : {}) });
  }

  /** The recording, after checking that a room admin's token is for its room. */
  private async mine(id: string, req: Request) {
    const rec = await this.recordings.get(idParam(id));
    assertManages(principalOf(req), rec.room);
    return rec;
  }

  @Get('recordings/:id')
  @RoomAdminAllowed()
  async get(@Param('id') id: string, @Req() req: Request) {
    return recordingView(await this.mine(id, req));
  }

  @Post('recordings/:id/stop')
  @RoomAdminAllowed()
  @HttpCode(202)
  async stop(@Param('id') id: string, @Req() req: Request) {
    await this.mine(id, req);
    return recordingView(await this.recordings.stop(id));
  }

  @Get('recordings/:id/file')
  @RoomAdminAllowed()
  async file(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.mine(id, req);
    return this.recordings.sendFile(id, req, res);
  }

  @Get('recordings/:id/thumbnail')
  @RoomAdminAllowed()
  async thumbnail(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.mine(id, req);
    return this.recordings.sendThumbnail(id, res);
  }

  @Get('recordings/:id/parts/:n')
  @RoomAdminAllowed()
  async part(@Param('id') id: string, @Param('n') n: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.mine(id, req);
    return this.recordings.sendPart(id, n, req, res);
  }

  @Delete('recordings/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.recordings.remove(idParam(id));
  }
}
