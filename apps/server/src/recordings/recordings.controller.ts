import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { NotFoundError } from '@app/core';
import { RECORDING_ID_RE, recordingView } from '@app/jobs';
import type { Request, Response } from 'express';
import { AdmissionService } from '../admission/admission.service';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { roomParam } from '../rooms/rooms.controller';
import { RecordingsService } from './recordings.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

const idParam = (id: string): string => {
  if (!RECORDING_ID_RE.test(id)) throw new NotFoundError('recording not found');
  return id;
};

/** Recording REST API (admin auth). */
@Controller('v1')
@UseGuards(AdminAuthGuard)
export class RecordingsController {
  constructor(
    private readonly recordings: RecordingsService,
    private readonly admission: AdmissionService,
  ) {}

  @Post('rooms/:name/recordings')
  @UseGuards(AcceptingGuard)
  async start(@Param('name') name: string, @Body() body: unknown) {
    this.admission.check({ kind: 'output', room: roomParam(name) }); // 503 capacity_exceeded before a job is queued
    return recordingView(await this.recordings.create(name, body));
  }

  @Get('recordings')
  list(@Query() q: { room?: string; status?: string; limit?: string; cursor?: string }) {
    return this.recordings.list(q);
  }

  @Get('recordings/:id')
  async get(@Param('id') id: string) {
    return recordingView(await this.recordings.get(idParam(id)));
  }

  @Post('recordings/:id/stop')
  @HttpCode(202)
  async stop(@Param('id') id: string) {
    return recordingView(await this.recordings.stop(idParam(id)));
  }

  @Get('recordings/:id/file')
  file(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.recordings.sendFile(idParam(id), req, res);
  }

  @Get('recordings/:id/thumbnail')
  thumbnail(@Param('id') id: string, @Res() res: Response): Promise<void> {
    return this.recordings.sendThumbnail(idParam(id), res);
  }

  @Get('recordings/:id/parts/:n')
  part(@Param('id') id: string, @Param('n') n: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.recordings.sendPart(idParam(id), n, req, res);
  }

  @Delete('recordings/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.recordings.remove(idParam(id));
  }
}
