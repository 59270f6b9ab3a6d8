import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { bearerToken } from '@app/core';
import { AdminAuthGuard } from '../http/admin-auth.guard';
import { roomParam } from '../rooms/rooms.controller';
import { HlsService } from './hls.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

/** Admin control of a room's HLS output. */
@Controller('v1/rooms/:name/hls')
@UseGuards(AdminAuthGuard)
export class HlsAdminController {
  constructor(private readonly hls: HlsService) {}

  /** Starts HLS now (it otherwise starts with the first viewer); it stops after the idle timeout without viewers. */
  @Post()
  @UseGuards(AcceptingGuard)
  @HttpCode(202)
  async start(@Param('name') name: string) {
    await this.hls.ensure(roomParam(name));
    return this.hls.state(name);
  }

  @Get()
  state(@Param('name') name: string) {
    return this.hls.state(roomParam(name));
  }

  @Delete()
  @HttpCode(204)
  async stop(@Param('name') name: string): Promise<void> {
    await this.hls.stop(roomParam(name), 'stopped through the API');
  }
}

/** What viewers fetch: the playlist and its segments, with a room token (`?token=`, or `Authorization: Bearer`). */
@Controller('v1/rooms/:name/hls')
export class HlsController {
  constructor(private readonly hls: HlsService) {}

  @Get(':file')
  async file(@Param('name') name: string, @Param('file') file: string, @Query('token') q: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Access-Control-Allow-Origin', '*');
    const room = roomParam(name);
    const token = typeof q === 'string' && q ? q : req.headers.authorization ? bearerToken(req.headers.authorization) : undefined;
    this.hls.authorize(room, token);
    const r = await this.hls.read(room, file, token!);
    res.status(200).setHeader('Content-Type', r.contentType).setHeader('Cache-Control', r.cacheControl);
    res.send(r.body);
  }
}
