import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { RecordingJobData } from '../../queues';
import { type Recording, type RecordingPart, recordingOwnershipLost } from '../../recording';
import { partsTotals } from '../../recording-parts';
import type { RecordingStore } from '../../recording-store';
import { OwnershipLostError } from '../../status-record-store';
import type { VideoCodec } from '@app/core';
import { type Logger, type MixSource, RecordingSink } from '@app/media';
import { probeDuration } from './stitch';
import { lowDiskProblem } from '../../disk-space';
import { MIX_SILENCE_LOST_MS } from '../mix-source';

/** What one part of a recording needs: the job, where files go, and the parts so far (this one is added when it starts). */
export interface PartContext {
  id: string;
  rec: Recording;
  job: Job<RecordingJobData>;
  store: RecordingStore;
  ffmpegPath: string;
  ffprobePath: string;
  /** The room's video codec as planned when the recording was created (see RecordingJobData.videoCodec). */
  videoCodec?: VideoCodec;
  recordingsDir: string;
  logger?: Logger;
  log: (m: string) => void;
  parts: RecordingPart[];
  /** When the room's stream was lost, until a part records again (the reconnect budget runs from here). */
  lostAt?: number;
  /** This run's owner token (Recording.runId): every write is fenced with it, and a record naming another run ends it. */
  runId: string;
  /** Whether this run still holds its BullMQ job's lock (absent: not checked). */
  lockHeld?: () => Promise<boolean>;
  /** Free MiB of the recordings directory, and the floor below which recording stops (failed, file kept). */
  freeDiskMib?: () => Promise<number>;
  stopFreeDiskMb?: number;
}

/**
 * How a part ended: asked to stop, the room's stream lost (reconnect), a failure (ffmpeg died, the job's lock lost), or
 * superseded (the record is final or names another run: this run no longer owns the recording and writes nothing more).
 */
export type PartEnd = { kind: 'stop'; reason: string } | { kind: 'lost'; reason: string } | { kind: 'failed'; message: string } | { kind: 'superseded'; reason: string };

/** How often the job's lock, and the free disk space, are checked while recording. */
const LOCK_CHECK_MS = 1000;
const DISK_CHECK_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const START_TIMEOUT_MS = 15_000;

/**
 * Records `client`'s mix into `fileName` until a stop is asked for, the stream is lost or ffmpeg dies; then closes the
 * client and lets ffmpeg finish the file (media first, bookkeeping second: a store error never leaves a peer or an ffmpeg
 * behind). The part joins `ctx.parts` once media flows (`onStart` is told, e.g. to go `active`); a part that never
 * started leaves no file and no entry. Returns how it ended and whether it started.
 */
export async function recordPart(ctx: PartContext, client: MixSource, fileName: string, onStart: (startedAt: number) => Promise<void>): Promise<{ end: PartEnd; started: boolean }> {
  const { id, rec, store } = ctx;
  const output = path.join(ctx.recordingsDir, fileName);
  const videoCodec = rec.audioOnly ? undefined : partCodec(ctx, client);
  const recorder = new RecordingSink({ ffmpegPath: ctx.ffmpegPath, format: rec.format, audioOnly: rec.audioOnly, videoCodec, output, logger: ctx.logger });
  let exited: string | undefined;
  recorder.on('exit', (exit) => (exited = exit.message));
  recorder.start();
  client.on('video', (f) => recorder.video(f));
  client.on('audio', (p, ts) => recorder.audio(p, ts));
  let closed: string | undefined;
  client.on('closed', (reason) => (closed = reason));
  const lost = () => closed ?? (Date.now() - client.lastMediaAt > MIX_SILENCE_LOST_MS ? `no media for ${MIX_SILENCE_LOST_MS / 1000} s` : undefined);
  const index = ctx.parts.length + 1;
  ctx.log(`part ${index}: recording to ${output} (${rec.format}${rec.audioOnly ? ', audio only' : `, video ${videoCodec}`})`);
  let part: RecordingPart | undefined;
  let end: PartEnd | undefined;
  try {
    // the part starts once media flows into the file
    const startDeadline = Date.now() + START_TIMEOUT_MS;
    let lockCheckedAt = Date.now();
    let diskCheckedAt = 0;
    /** Free space below the floor: stop before the disk is full (the file then ends cleanly, playable). */
    const lowDisk = async (): Promise<PartEnd | undefined> => {
      if (!ctx.freeDiskMib || !ctx.stopFreeDiskMb || Date.now() - diskCheckedAt < DISK_CHECK_MS) return undefined;
      diskCheckedAt = Date.now();
      const free = await ctx.freeDiskMib().catch(() => Infinity);
      const low = lowDiskProblem(free, ctx.stopFreeDiskMb, 'the recordings directory');
      return low ? { kind: 'failed', message: `stopped recording: ${low} (RECORDING_STOP_FREE_DISK_MB); what was written is kept` } : undefined;
    };
    /** Why this run must stop writing now (the record is not its own, or its job's lock is gone), checked each tick. */
    const ownership = async (cur: Recording): Promise<PartEnd | undefined> => {
      const gone = recordingOwnershipLost(cur, ctx.runId);
      if (gone) return { kind: 'superseded', reason: gone };
      if (ctx.lockHeld && Date.now() - lockCheckedAt >= LOCK_CHECK_MS) {
        lockCheckedAt = Date.now();
        if (!(await ctx.lockHeld())) return { kind: 'failed', message: "the worker lost its job's lock (another worker may take the job over); stopped recording, the partial file is kept" };
      }
      return undefined;
    };
    while (!recorder.startedAt && !end) {
      const cur = await store.get(id);
      end = await ownership(cur);
      if (end) break;
      if (cur.stopRequested) end = { kind: 'stop', reason: cur.stopRequested };
      else if (exited) end = { kind: 'failed', message: exited };
      else if (closed) end = { kind: 'lost', reason: closed };
      else if (Date.now() > startDeadline) end = { kind: 'lost', reason: `no media arrived from the room within ${START_TIMEOUT_MS / 1000} s` };
      else await sleep(100);
    }
    if (recorder.startedAt) {
      part = { index, fileName, startedAt: new Date(recorder.startedAt).toISOString() };
      ctx.parts.push(part);
      await onStart(recorder.startedAt);
    }
    for (let tick = 1; part && !end; tick++) {
      await sleep(250);
      const cur = await store.get(id);
      // (an ffmpeg that already failed, e.g. on ENOSPC, says why itself: the disk check is for one still writing)
      end = (await ownership(cur)) ?? (exited ? undefined : await lowDisk());
      if (end) break;
      if (tick % 4 === 0 || cur.stopRequested) {
        part.durationSeconds = Math.round(recorder.durationSeconds * 10) / 10;
        part.sizeBytes = recorder.sizeBytes;
        const progress = partsTotals(ctx.parts);
        await ctx.job.updateProgress(progress);
        await store.update(id, { ...progress, parts: ctx.parts, heartbeatAt: Date.now() }, { owner: ctx.runId });
      }
      if (cur.stopRequested) end = { kind: 'stop', reason: cur.stopRequested };
      else if (exited) end = { kind: 'failed', message: exited };
      else {
        const why = lost();
        if (why) end = { kind: 'lost', reason: why };
      }
    }
  } catch (e) {
    end = e instanceof OwnershipLostError ? { kind: 'superseded', reason: e.message } : { kind: 'failed', message: (e as Error).message };
  } finally {
    await client.close().catch(() => undefined);
    await recorder.stop().catch(() => null);
  }
  if (part) {
    // a lost stream's part ends with its last media, not when the loss was noticed (seconds of silence later): the gap
    // between parts is then the time the room really had no recording
    const lastMedia = end?.kind === 'lost' && client.lastMediaAt > 0 ? Math.min(Date.now(), client.lastMediaAt) : Date.now();
    part.endedAt = new Date(lastMedia).toISOString();
    part.durationSeconds = await probeDuration(output, { ffmpeg: ctx.ffmpegPath, ffprobe: ctx.ffprobePath });
    part.sizeBytes = recorder.sizeBytes;
  } else if (ctx.parts.length > 0) {
    await rm(output, { force: true }).catch(() => undefined); // a reconnect that never got media: nothing worth keeping
  }
  return { end: end ?? { kind: 'failed', message: 'ended without a reason' }, started: part !== undefined };
}

/**
 * The codec of a part's video: as planned when the recording was created (the room's codec, fixed for its life). Should
 * the mix say otherwise (a room deleted and created again under the same name while reconnecting), the mix wins.
 */
function partCodec(ctx: PartContext, client: MixSource): VideoCodec {
  const planned = ctx.videoCodec ?? client.videoCodec ?? 'h264';
  if (client.videoCodec && client.videoCodec !== planned) {
    ctx.logger?.warn(`[recording ${ctx.id}] the room's mix is ${client.videoCodec}, not ${planned} as when the recording was created; recording ${client.videoCodec}`);
    return client.videoCodec;
  }
  return planned;
}
