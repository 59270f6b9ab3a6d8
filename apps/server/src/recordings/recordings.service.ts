import { createReadStream, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ConflictError, InsufficientStorageError, NotFoundError, nonOverlapping, ValidationError } from '@app/core';
import type { AppConfig } from '@app/config';
import {
  contentTypeFor,
  fallBackFromFinishing,
  freeDiskMib,
  isFinal,
  lowDiskProblem,
  partFileName,
  type Recording,
  recordingFileName,
  recordingFiles,
  RecordingStore,
  recordingView,
  RECORDING_ID_RE,
  RECORDING_STATUSES,
  type RecordingStatus,
  thumbnailFileName,
  validateRecordingRequest,
} from '@app/jobs';
import { logLine, RoomManager } from '@app/media';
import type { Request, Response } from 'express';
import { ClusterService } from '../cluster/cluster.service';
import { APP_CONFIG } from '../tokens';
import { RECORDINGS_QUEUE } from './jobs.providers';

/**
 * Recordings: requests go on the BullMQ queue (a worker records), metadata lives in Redis. A sweep asks workers to stop
 * when a room has been empty long enough or was deleted, and fails recordings whose worker went silent (file kept).
 */
@Injectable()
export class RecordingsService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Recordings');
  private sweepTimer?: NodeJS.Timeout;
  /** Rooms closing because the server stops are not deleted rooms: their recordings are finished by the workers' shutdown. */
  private shuttingDown = false;
  private readonly emptySince = new Map<string, number>();

  constructor(
    private readonly store: RecordingStore,
    private readonly rooms: RoomManager,
    private readonly cluster: ClusterService,
    @Inject(RECORDINGS_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // A deleted room stops its recordings at once; the sweep below is the backstop (and handles empty rooms).
    this.rooms.on('roomClosed', (name) => {
      if (!this.shuttingDown) void this.stopRecordingsOf(name, 'the room was deleted').catch((e: Error) => this.logger.warn(e.message));
    });
    // one sweep at a time: while Redis is stopped a sweep hangs, and the ticks of the outage must not all run afterwards
    const sweep = nonOverlapping(() => this.sweep(), (e) => this.logger.warn(`sweep: ${(e as Error).message}`));
    this.sweepTimer = setInterval(() => void sweep(), 2000);
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  async create(roomName: string, body: unknown): Promise<Recording> {
    const req = validateRecordingRequest(body);
    // the room may run on any node (or none yet): it must exist in the cluster
    const options = await this.cluster.roomOptions(roomName);
    if (!options) throw new NotFoundError(`room "${roomName}" not found`);
    // refused before anything is stored or queued: a recording that would fill the disk is not started
    const low = lowDiskProblem(await freeDiskMib(this.config.recordingsDir), this.config.minFreeDiskMb, 'the recordings directory');
    if (low) throw new InsufficientStorageError(`cannot start a recording: ${low} (MIN_FREE_DISK_MB)`);
    const rec = await this.store.create({ room: roomName, ...req });
    // the room's codec is fixed when it is created: the job knows now whether its video is copied or transcoded
    await this.queue.add('record', { recordingId: rec.id, videoCodec: options.videoCodec }, { jobId: rec.id, removeOnComplete: 1000, removeOnFail: 5000 });
    this.logger.log(logLine(`recording ${rec.id} of room ${roomName} queued (${rec.format}${rec.audioOnly ? ', audio only' : ''})`, { recording: rec.id, room: roomName }));
    return rec;
  }

  get(id: string): Promise<Recording> {
    return this.store.get(id);
  }

  async list(q: { room?: string; status?: string; limit?: string; cursor?: string }) {
    if (q.status !== undefined && !RECORDING_STATUSES.includes(q.status as RecordingStatus)) throw new ValidationError(`status must be one of: ${RECORDING_STATUSES.join(', ')}`);
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ValidationError('limit must be an integer from 1 to 500');
    if (q.cursor !== undefined && !/^\d+$/.test(q.cursor)) throw new ValidationError('cursor is not valid');
    const page = await this.store.list({ room: q.room, status: q.status as RecordingStatus | undefined, limit, cursor: q.cursor });
    return { items: page.items.map(recordingView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  async stop(id: string, reason = 'stopped through the API'): Promise<Recording> {
    const rec = await this.store.get(id);
    if (isFinal(rec.status)) throw new ConflictError(`recording ${id} is already ${rec.status}`);
    if (rec.status === 'queued') {
      // Never started (no worker free yet): take it off the queue; nothing was recorded.
      const job = await this.queue.getJob(id);
      await job?.remove().catch(() => undefined);
      return this.store.update(id, { stopRequested: reason, status: 'failed', error: 'stopped before it started: nothing was recorded', endedAt: new Date().toISOString() });
    }
    return this.store.update(id, { stopRequested: rec.stopRequested ?? reason });
  }

  async remove(id: string): Promise<void> {
    let rec = await this.store.get(id);
    if (!isFinal(rec.status)) {
      await this.stop(id, 'deleted through the API');
      const deadline = Date.now() + 20_000;
      while (!isFinal(rec.status) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        rec = await this.store.get(id);
      }
    }
    for (const file of recordingFiles(rec, this.config.recordingsDir)) rmSync(file, { force: true });
    await this.store.remove(id);
    this.logger.log(logLine(`recording ${id} deleted`, { recording: id }));
  }

  private filePath(rec: Recording): string {
    return path.join(this.config.recordingsDir, recordingFileName(rec.id, rec.format));
  }

  /** Streams the file with HTTP Range support (RFC 9110 single ranges); a file still being written can be read too. */
  async sendFile(id: string, req: Request, res: Response): Promise<void> {
    if (!RECORDING_ID_RE.test(id)) throw new NotFoundError('recording not found');
    const rec = await this.store.get(id);
    await this.streamFile(rec, this.filePath(rec), '', req, res, `recording ${id} has no file (${rec.status})`);
  }

  /** One part of a recording that lost its room's stream and reconnected (1-based, as listed in `parts`), like sendFile. */
  async sendPart(id: string, part: string, req: Request, res: Response): Promise<void> {
    if (!RECORDING_ID_RE.test(id)) throw new NotFoundError('recording not found');
    const rec = await this.store.get(id);
    const index = /^[1-9]\d{0,3}$/.test(part) ? Number(part) : 0;
    const name = index ? partFileName(rec, index) : undefined;
    if (!name) throw new NotFoundError(`recording ${id} has no part ${part.slice(0, 10)} (it has ${rec.parts?.length ?? 0})`);
    await this.streamFile(rec, path.join(this.config.recordingsDir, name), `.part${index}`, req, res, `part ${index} of recording ${id} has no file`);
  }

  /** The recording's thumbnail (a JPEG of a frame 1 s in), once it has one; 404 otherwise. */
  async sendThumbnail(id: string, res: Response): Promise<void> {
    if (!RECORDING_ID_RE.test(id)) throw new NotFoundError('recording not found');
    const rec = await this.store.get(id);
    const file = path.join(this.config.recordingsDir, thumbnailFileName(rec.id));
    let size = 0;
    try {
      size = rec.thumbnailUrl ? statSync(file).size : 0;
    } catch {
      /* not there */
    }
    if (!size) throw new NotFoundError(`recording ${id} has no thumbnail${rec.audioOnly ? ' (it is audio only)' : isFinal(rec.status) ? '' : ` yet (${rec.status})`}`);
    res.status(200).setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Content-Length', String(size));
    res.setHeader('Cache-Control', 'no-store');
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  private async streamFile(rec: Recording, file: string, suffix: string, req: Request, res: Response, missing: string): Promise<void> {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new NotFoundError(missing);
    }
    const safeName = rec.name.replace(/[^A-Za-z0-9._ -]+/g, '_').slice(0, 100) || rec.id;
    res.setHeader('Content-Type', contentTypeFor(rec.format, rec.audioOnly));
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Disposition', `attachment; filename="${safeName}${suffix}.${rec.format}"`);
    res.setHeader('Cache-Control', 'no-store');
    const range = req.headers.range;
    let start = 0;
    let end = size - 1;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] || m[2])) {
        if (m[1]) {
          start = Number(m[1]);
          end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
        } else {
          start = Math.max(0, size - Number(m[2]));
        }
      }
      if (!m || start > end || start >= size) {
        res.status(416).setHeader('Content-Range', `bytes */${size}`);
        res.json({ error: { code: 'range_not_satisfiable', message: `the file has ${size} bytes` } });
        return;
      }
      res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    } else res.status(200);
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file, { start, end });
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  private async stopRecordingsOf(room: string, reason: string): Promise<void> {
    for (const rec of await this.store.unfinished()) {
      if (rec.room === room && !rec.stopRequested && rec.status !== 'queued') await this.store.update(rec.id, { stopRequested: reason });
    }
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const rec of await this.store.unfinished()) {
      if (rec.status === 'queued') continue;
      const silent = now - (rec.heartbeatAt ?? now) > this.config.recordingHeartbeatTimeoutMs;
      if (rec.status === 'finishing' && silent) {
        // its files are as recorded (only a verified file ever replaces one): fall back to them
        const patch = await fallBackFromFinishing(rec, this.config.recordingsDir);
        this.logger.warn(logLine(`recording ${rec.id}: its worker went silent while finishing it; ${patch.status}: ${patch.warning ?? patch.error ?? 'its file is complete'}`, { recording: rec.id, room: rec.room }));
        await this.store.update(rec.id, patch, { allowNoop: true });
        continue;
      }
      if (['starting', 'active', 'stopping'].includes(rec.status) && silent) {
        this.logger.warn(logLine(`recording ${rec.id}: its worker went silent; marking it failed (the partial file is kept)`, { recording: rec.id, room: rec.room }));
        await this.store.update(rec.id, { status: 'failed', error: 'the worker stopped responding; the partial file is kept', endedAt: new Date().toISOString() }, { allowNoop: true });
        continue;
      }
      if (rec.stopRequested || rec.status === 'finishing') continue;
      // each node sweeps the recordings of the rooms it hosts; of the others, it only stops those of deleted rooms
      const room = this.rooms.find(rec.room);
      if (!room) {
        if (!(await this.cluster.exists(rec.room))) await this.store.update(rec.id, { stopRequested: 'the room was deleted' });
        continue;
      }
      if (!room.isEmpty) {
        this.emptySince.delete(rec.id);
        continue;
      }
      const since = this.emptySince.get(rec.id) ?? now;
      this.emptySince.set(rec.id, since);
      if (now - since >= this.config.recordingEmptyTimeoutMs) {
        this.emptySince.delete(rec.id);
        this.logger.log(logLine(`recording ${rec.id} of room ${rec.room}: empty for ${Math.round((now - since) / 1000)} s; stopping`, { recording: rec.id, room: rec.room }));
        await this.store.update(rec.id, { stopRequested: 'the room was empty' });
      }
    }
  }
}
