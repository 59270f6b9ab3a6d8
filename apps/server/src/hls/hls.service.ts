import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ForbiddenError, NotFoundError, UnauthorizedError, UnavailableError, verifyRoomToken } from '@app/core';
import type { AppConfig } from '@app/config';
import { type FfmpegInfo, HLS_FILE_RE, logLine, objectLogger, playlistWithToken, RoomManager } from '@app/media';
import { AdmissionService } from '../admission/admission.service';
import { roomTokenKeys } from '../http/room-token-keys';
import { APP_CONFIG, FFMPEG_INFO } from '../tokens';
import { HlsOutput } from './hls-output';


export interface HlsState {
  room: string;
  running: boolean;
  startedAt?: string;
  playlist: string;
  idleTimeoutSeconds: number;
  segmentSeconds: number;
  listSize: number;
  lowRendition: boolean;
}

/**
 * Live HLS per room, in the server process: started by the first viewer request (or POST …/hls), stopped
 * HLS_IDLE_TIMEOUT_SECONDS after the last viewer request and when the room closes (files removed). Files live in
 * `$DATA_DIR/hls/<room>/`; only whitelisted names are served, and only from that directory.
 */
@Injectable()
export class HlsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('HLS');
  private readonly outputs = new Map<string, HlsOutput>();
  private readonly starting = new Map<string, Promise<HlsOutput>>();
  private sweepTimer?: NodeJS.Timeout;
  private readonly base: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FFMPEG_INFO) private readonly ffmpeg: FfmpegInfo,
    private readonly rooms: RoomManager,
    private readonly admission: AdmissionService,
  ) {
    this.base = path.resolve(config.dataDir, 'hls');
  }

  onApplicationBootstrap(): void {
    this.rooms.on('roomClosed', (name) => this.stopQuietly(name, 'the room was deleted'));
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.allSettled([...this.outputs.keys()].map((r) => this.stop(r, 'the server is shutting down')));
  }

  /** The room's HLS directory; refuses anything that would resolve outside `$DATA_DIR/hls`. */
  private dirOf(room: string): string {
    const dir = path.resolve(this.base, room);
    if (path.dirname(dir) !== this.base) throw new NotFoundError('room not found');
    return dir;
  }

  /** Checks a viewer's room token (`?token=` or `Authorization: Bearer`): that room, with canSubscribe. */
  authorize(room: string, token: string | undefined): void {
    if (!token) throw new UnauthorizedError('a room token with canSubscribe is required: ?token=<token>');
    const grants = verifyRoomToken(token, roomTokenKeys(this.config));
    if (grants.room !== room) throw new ForbiddenError(`token is for room "${grants.room}", not "${room}"`);
    if (!grants.canSubscribe) throw new ForbiddenError('token does not grant subscribing');
  }

  async ensure(roomName: string): Promise<HlsOutput> {
    const existing = this.outputs.get(roomName);
    if (existing) {
      existing.lastRequestAt = Date.now();
      return existing;
    }
    const pending = this.starting.get(roomName);
    if (pending) return pending;
    const room = this.rooms.get(roomName);
    // a new output: admitted (or 503 capacity_exceeded) before its ffmpeg starts, held as a reservation while it starts
    const p = this.admission.admitWhile({ kind: 'output', room: roomName }, async () => {
      const out = new HlsOutput(room, {
        ffmpegPath: this.ffmpeg.path,
        dir: this.dirOf(room.name),
        segmentSeconds: this.config.hlsSegmentSeconds,
        listSize: this.config.hlsListSize,
        lowRendition: this.config.hlsLowRendition,
        logger: objectLogger(this.logger),
      });
      out.once('closed', () => {
        if (this.outputs.get(roomName) === out) this.outputs.delete(roomName);
      });
      try {
        await out.start();
      } catch (e) {
        await out.close(`start failed: ${(e as Error).message}`);
        throw e;
      }
      // closed meanwhile (the room went, or a stop): do not keep it
      if (!out.isClosed) this.outputs.set(roomName, out);
      return out;
    });
    this.starting.set(roomName, p);
    try {
      return await p;
    } finally {
      this.starting.delete(roomName);
    }
  }

  state(roomName: string): HlsState {
    const out = this.outputs.get(roomName);
    return {
      room: roomName,
      running: Boolean(out),
      ...(out ? { startedAt: new Date(out.startedAt).toISOString() } : {}),
      playlist: `/v1/rooms/${roomName}/hls/index.m3u8`,
      idleTimeoutSeconds: this.config.hlsIdleTimeoutMs / 1000,
      segmentSeconds: this.config.hlsSegmentSeconds,
      listSize: this.config.hlsListSize,
      lowRendition: this.config.hlsLowRendition,
    };
  }

  /** A stop nobody waits for (a timer, an event): its failure is logged, never an unhandled rejection. */
  private stopQuietly(roomName: string, reason: string): void {
    this.stop(roomName, reason).catch((e: Error) => this.logger.warn(logLine(`HLS of room ${roomName} did not stop cleanly (${reason}): ${e.message}`, { room: roomName })));
  }

  async stop(roomName: string, reason: string): Promise<void> {
    const out = this.outputs.get(roomName) ?? (await this.starting.get(roomName)?.catch(() => undefined));
    this.outputs.delete(roomName);
    await out?.close(reason);
  }

  /** A playlist (with the viewer's token on every URI) or a segment. Starts the output on a viewer's first request. */
  async read(roomName: string, file: string, token: string): Promise<{ body: Buffer | string; contentType: string; cacheControl: string }> {
    if (!HLS_FILE_RE.test(file)) throw new NotFoundError(`no HLS file "${file.slice(0, 40)}"`);
    const isPlaylist = file.endsWith('.m3u8');
    const full = path.join(this.dirOf(roomName), file);
    if (path.dirname(full) !== this.dirOf(roomName)) throw new NotFoundError('no such HLS file');
    if (!isPlaylist) {
      const out = this.outputs.get(roomName);
      if (out) out.lastRequestAt = Date.now();
      try {
        return { body: await readFile(full), contentType: 'video/mp2t', cacheControl: 'private, max-age=3600, immutable' };
      } catch {
        throw new NotFoundError(`segment ${file} is not (or no longer) available`);
      }
    }
    await this.ensure(roomName);
    // the first viewer waits (up to 10 s) for ffmpeg's first playlist; asynchronously: the mixer clocks share this loop
    let text: string | undefined;
    for (const deadline = Date.now() + 10_000; text === undefined && this.outputs.has(roomName); ) {
      text = await readFile(full, 'utf8').catch(() => undefined);
      if (text === undefined && Date.now() >= deadline) break;
      if (text === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (text === undefined) throw new UnavailableError(`the HLS playlist of room "${roomName}" is being prepared; retry in a moment`);
    return { body: playlistWithToken(text, token), contentType: 'application/vnd.apple.mpegurl', cacheControl: 'no-cache, no-store' };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [room, out] of this.outputs) {
      if (now - out.lastRequestAt >= this.config.hlsIdleTimeoutMs) {
        this.stopQuietly(room, `no viewer request for ${Math.round((now - out.lastRequestAt) / 1000)} s`);
      }
    }
  }
}
