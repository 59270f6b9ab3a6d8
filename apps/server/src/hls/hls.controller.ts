import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { bearerToken, redirectLocation } from '@app/core';
import { ClusterService } from '../cluster/cluster.service';
import { AdminAuthGuard, RoomAdminAllowed } from '../http/admin-auth.guard';
import { roomParam } from '../rooms/rooms.controller';
import { HlsService } from './hls.service';
import { AcceptingGuard } from '../lifecycle/accepting.guard';

/** Admin control of a room's HLS output (also the room admin's, for its room). */
@Controller('v1/rooms/:name/hls')
@UseGuards(AdminAuthGuard)
@RoomAdminAllowed()
export class HlsAdminController {
  constructor(
    private readonly hls: HlsService,
    private readonly cluster: ClusterService,
  ) {
    // the HLS output runs on the node hosting the room: other nodes ask it
    cluster.handle('hls.ensure', async (a) => this.start(String(a.room)));
    cluster.handle('hls.state', async (a) => this.state(String(a.room)));
    cluster.handle('hls.stop', async (a) => this.stop(String(a.room)));
  }

  /** Starts HLS now (it otherwise starts with the first viewer); it stops after the idle timeout without viewers. */
  @Post()
  @UseGuards(AcceptingGuard)
  @HttpCode(202)
  async start(@Param('name') name: string) {
    const where = await this.cluster.locate(roomParam(name));
    if (where.kind === 'remote') return this.cluster.call(where.node, 'hls.ensure', { room: name });
    await this.hls.ensure(name);
    return this.hls.state(name);
  }

  @Get()
  async state(@Param('name') name: string) {
    const where = await this.cluster.whereIs(roomParam(name));
    if (where?.kind === 'remote') return this.cluster.call(where.node, 'hls.state', { room: name });
    if (!where) await this.cluster.stored(name); // 404 for no such room
    return this.hls.state(name);
  }

  @Delete()
  @HttpCode(204)
  async stop(@Param('name') name: string): Promise<void> {
    const where = await this.cluster.whereIs(roomParam(name));
    if (where?.kind === 'remote') await this.cluster.call(where.node, 'hls.stop', { room: name });
    else await this.hls.stop(name, 'stopped through the API');
  }
}

/** What viewers fetch: the playlist and its segments, with a room token (`?token=`, or `Authorization: Bearer`). */
@Controller('v1/rooms/:name/hls')
export class HlsController {
  constructor(
    private readonly hls: HlsService,
    private readonly cluster: ClusterService,
  ) {}

  @Get(':file')
  async file(@Param('name') name: string, @Param('file') file: string, @Query('token') q: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Access-Control-Allow-Origin', '*');
    const room = roomParam(name);
    const token = typeof q === 'string' && q ? q : req.headers.authorization ? bearerToken(req.headers.authorization) : undefined;
    this.hls.authorize(room, token);
    // the files are on the node hosting the room: a redirect there (relative segment URIs then resolve against it)
    const where = await this.cluster.locate(room);
    if (where.kind === 'remote') {
      res.redirect(307, redirectLocation(where.node.url, req.originalUrl));
      return;
    }
    const r = await this.hls.read(room, file, token!);
    res.status(200).setHeader('Content-Type', r.contentType).setHeader('Cache-Control', r.cacheControl);
    res.send(r.body);
  }
}
