import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { RecordingJobData } from '../../queues';
import { finishingFileName, isFinal, type Recording, recordingFileName, recordingOwnershipLost, thumbnailFileName, thumbnailUrlOf } from '../../recording';
import { partsTotals, reconnectDelayMs, recordingPartFileName } from '../../recording-parts';
import type { RecordingStore } from '../../recording-store';
import { OwnershipLostError } from '../../status-record-store';
import { childLogger, type FfmpegBinaries, type Logger, type MixSource } from '@app/media';
import { type PartContext, recordPart } from './record-part';
import { freeDiskMib, lowDiskProblem } from '../../disk-space';
import { makeDurable } from './durable';
import { finishFile, makeThumbnail } from './finish-file';
import { fileSize, stitchParts } from './stitch';
import { connectMix, type MixSourceDeps } from '../mix-source';

export interface RecordingDeps extends MixSourceDeps {
  store: RecordingStore;
  ffmpegPath: string;
  ffprobePath: string;
  recordingsDir: string;
  logger?: Logger;
  /** Ids of the recordings this process is running right now (for a graceful stop on shutdown). */
  active?: Set<string>;
  /** After losing the room's stream, how long to try to reconnect before ending (RECORDING_RECONNECT_SECONDS; default 30 s). */
  reconnectMs?: number;
  /** Below this free space (MiB) in recordingsDir a recording does not start, and a running one stops (0: never). */
  stopFreeDiskMb?: number;
  /** Whether the job (run with BullMQ's lock `token`) still holds its lock; a run that lost it stops recording. */
  jobLockHeld?: (job: Job<RecordingJobData>, token: string) => Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A deleted room ends its stream first; its stop request lands at once from its node, within a 2 s sweep from another. */
const STOP_GRACE_MS = 4000;

/**
 * One recording job: join the room as a hidden WHEP subscriber, copy the mix into a file with ffmpeg, report progress
 * (BullMQ progress and the stored record) every second, and stop when asked (API, empty room, deleted room). When the
 * room's stream is lost (the room moved to another node, its media worker failed), the current part is finished, the
 * job reconnects and records the next part into its own file; the parts are stitched when the recording ends.
 */
export function recordingProcessor(deps: RecordingDeps) {
  const { store, logger } = deps;
  return async (job: Job<RecordingJobData>, token?: string): Promise<void> => {
    const id = job.data.recordingId;
    const rec = await store.find(id);
    if (!rec || isFinal(rec.status)) return;
    const tagged = childLogger(logger, { recording: id, room: rec.room, job: job.id }, `[recording ${id} room ${rec.room}] `);
    const log = (m: string) => tagged?.log(m);
    if (rec.stopRequested && rec.status === 'queued') {
      await store.update(id, { status: 'failed', error: 'stopped before it started: nothing was recorded', endedAt: new Date().toISOString() }, { allowNoop: true });
      return;
    }
    if (rec.status === 'finishing') {
      // Its worker stopped while finishing the files (BullMQ handed the job to this one): the files are as they were
      // recorded (a half-written temporary one is replaced), so finishing is simply done again.
      log('finishing again: the worker finishing it stopped');
      const runId = randomUUID();
      await store.update(id, { heartbeatAt: Date.now(), runId });
      deps.active?.add(id);
      try {
        await finish(partContext(id, rec, deps, job, token, log, rec.parts ?? [], runId), deps, undefined);
      } finally {
        deps.active?.delete(id);
      }
      return;
    }
    if (rec.status !== 'queued') {
      // A previous attempt died with its worker (BullMQ moved the stalled job back). Its file is complete up to the
      // moment of the crash; say so truthfully rather than overwrite it.
      await store.update(id, { status: 'failed', error: 'the worker recording this stopped unexpectedly; the partial file is kept', endedAt: new Date().toISOString() }, { allowNoop: true });
      return;
    }
    deps.active?.add(id);
    try {
      await record(id, rec, deps, job, token, log);
    } finally {
      deps.active?.delete(id);
    }
  };
}

async function record(id: string, rec: Recording, deps: RecordingDeps, job: Job<RecordingJobData>, token: string | undefined, log: (m: string) => void): Promise<void> {
  const { store } = deps;
  mkdirSync(deps.recordingsDir, { recursive: true });
  // this run's owner token: every write below is fenced with it, and a record naming another run (or final) ends it
  const runId = randomUUID();
  await store.update(id, { status: 'starting', heartbeatAt: Date.now(), runId });
  const ctx = partContext(id, rec, deps, job, token, log, [], runId);
  const identity = `recorder-${id}`;
  let failure: string | undefined;
  let client: MixSource | undefined;
  const low = deps.stopFreeDiskMb ? lowDiskProblem(await freeDiskMib(deps.recordingsDir).catch(() => Infinity), deps.stopFreeDiskMb, 'the recordings directory') : undefined;
  if (low) failure = `not started: ${low} (RECORDING_STOP_FREE_DISK_MB)`;
  else {
    try {
      client = await connectMix(deps, rec.room, identity, !rec.audioOnly);
    } catch (e) {
      failure = (e as Error).message;
    }
  }
  while (client) {
    const index = ctx.parts.length + 1;
    // Part 1 is written under the recording's own file name, so a recording that never loses its stream is exactly
    // what it always was (and a crash during part 2 still leaves that file, complete up to the loss). Only when the
    // recording ends with several parts is part 1 renamed <id>.part1.<ext> and the stitched file takes its name.
    const fileName = index === 1 ? recordingFileName(id, rec.format) : recordingPartFileName(id, rec.format, index);
    const { end, started } = await recordPart(ctx, client, fileName, async (startedAt) => {
      ctx.lostAt = undefined;
      if (index > 1) {
        await store.update(id, { parts: ctx.parts, heartbeatAt: Date.now() }, { owner: runId });
        return log(`part ${index}: recording again after a reconnect`);
      }
      await store.update(id, { status: 'active', startedAt: new Date(startedAt).toISOString(), parts: ctx.parts, heartbeatAt: Date.now() }, { owner: runId });
      log('active');
    });
    client = undefined;
    if (end.kind === 'superseded') {
      // someone else ended the recording or took it over: its file is closed as written; its state is theirs
      log(`stopped writing: ${end.reason}`);
      return;
    }
    if (end.kind === 'stop') log(`stopping: ${end.reason}`);
    else if (end.kind === 'failed') failure = end.message;
    else {
      // a first part that never started is connected again too (within the same budget): its WHEP session can
      // connect and still bring nothing, as a handshake stalled on the way used to
      log(`lost the room's stream (${end.reason})${started ? `; part ${index} is complete` : ''}; reconnecting`);
      const next = await reconnect(ctx, deps, identity, end.reason).catch((e: Error) => (e instanceof OwnershipLostError ? { superseded: e.message } : { gaveUp: e.message }));
      if ('superseded' in next) {
        log(`stopped: ${next.superseded}`);
        return;
      }
      if ('client' in next) client = next.client;
      else if ('stop' in next) log(`stopping: ${next.stop}`);
      else failure = next.gaveUp;
    }
  }
  if (!failure) await store.update(id, { status: 'stopping', parts: ctx.parts }, { allowNoop: true, owner: runId }).catch(() => undefined);
  await finish(ctx, deps, failure);
}

/**
 * After the room's stream was lost: tries connectMix again with backoff (0.5 s, 1 s, 2 s…) for up to
 * `reconnectMs` while keeping the heartbeat, and gives way to a stop request at any moment (a deleted room ends its
 * stream first and its stop request lands just after: at least STOP_GRACE_MS is waited for one even when reconnecting
 * is off). The budget runs from the loss until a part records again, across reconnects that brought no media.
 */
async function reconnect(ctx: PartContext, deps: RecordingDeps, identity: string, reason: string): Promise<{ client: MixSource } | { stop: string } | { gaveUp: string }> {
  const { id, rec, store } = ctx;
  const budgetMs = deps.reconnectMs ?? 30_000;
  ctx.lostAt ??= Date.now();
  const deadline = ctx.lostAt + budgetMs;
  const graceUntil = ctx.lostAt + STOP_GRACE_MS;
  let lastError = '';
  for (let attempt = 0; ; attempt++) {
    const cur = await store.update(id, { heartbeatAt: Date.now() }, { owner: ctx.runId });
    if (cur.stopRequested) return { stop: cur.stopRequested };
    if (Date.now() >= deadline) {
      if (Date.now() < graceUntil) {
        await sleep(200);
        continue;
      }
      const tried = budgetMs > 0 ? ` and could not reconnect within ${Math.round(budgetMs / 1000)} s${lastError ? ` (${lastError})` : ''}` : '';
      const kept = ctx.parts.length ? `the ${ctx.parts.length} recorded part(s) are kept` : 'nothing was recorded';
      return { gaveUp: `lost the room's stream (${reason})${tried}; ${kept}` };
    }
    try {
      const client = await beating(store, id, ctx.runId, connectMix(deps, rec.room, identity, !rec.audioOnly));
      ctx.log(`reconnected to the room's mix (attempt ${attempt + 1})`);
      return { client };
    } catch (e) {
      lastError = (e as Error).message.slice(0, 300);
    }
    const until = Math.min(Date.now() + reconnectDelayMs(attempt), Math.max(deadline, graceUntil));
    for (let tick = 1; Date.now() < until; tick++) {
      await sleep(Math.min(200, until - Date.now()));
      const cur = tick % 5 === 0 ? await store.update(id, { heartbeatAt: Date.now() }, { owner: ctx.runId }) : await store.get(id);
      const gone = recordingOwnershipLost(cur, ctx.runId);
      if (gone) throw new OwnershipLostError(gone);
      if (cur.stopRequested) break;
    }
  }
}

function partContext(
  id: string,
  rec: Recording,
  deps: RecordingDeps,
  job: Job<RecordingJobData>,
  token: string | undefined,
  log: (m: string) => void,
  parts: PartContext['parts'],
  runId: string,
): PartContext {
  const { store, logger, recordingsDir } = deps;
  // its ffmpeg runs and warnings carry the recording's ids
  const fields = childLogger(logger, { recording: id, room: rec.room, job: job.id });
  const lockHeld = deps.jobLockHeld && token ? () => deps.jobLockHeld!(job, token).catch(() => true) : undefined;
  const freeDisk = () => freeDiskMib(recordingsDir);
  return {
    id,
    rec,
    job,
    store,
    ffmpegPath: deps.ffmpegPath,
    ffprobePath: deps.ffprobePath,
    videoCodec: job.data.videoCodec,
    recordingsDir,
    logger: fields,
    log,
    parts,
    runId,
    lockHeld,
    freeDiskMib: freeDisk,
    stopFreeDiskMb: deps.stopFreeDiskMb,
  };
}

const binaries = (deps: RecordingDeps): FfmpegBinaries => ({ ffmpeg: deps.ffmpegPath, ffprobe: deps.ffprobePath });

/**
 * The end of a recording, whatever stopped it. One that recorded something and did not fail is `finishing` meanwhile:
 * with several parts, part 1 takes its part name and the parts are stitched into the recording's file (verified, see
 * stitchParts; a stitch that fails leaves the recording `ready` with its parts listed and a `warning`: no part is ever
 * removed here); a single file is rewritten with its index at the front (see finishFile: on failure the file stays as
 * recorded, with a `warning`); a video recording gets a thumbnail. Then the final status. Safe to run again on a
 * `finishing` record whose worker died (what it finished already is finished again).
 */
async function finish(ctx: PartContext, deps: RecordingDeps, failure: string | undefined): Promise<void> {
  const { id, rec, store, parts, log } = ctx;
  const dir = deps.recordingsDir;
  const output = path.join(dir, recordingFileName(id, rec.format));
  const bins = binaries(deps);
  let durationSeconds: number | undefined;
  let sizeBytes = 0;
  let warning: string | undefined;
  let thumbnailUrl: string | undefined;
  const finishing = !failure && parts.length > 0;
  if (finishing) await store.update(id, { status: 'finishing', parts, ...partsTotals(parts), heartbeatAt: Date.now() }, { allowNoop: true, owner: ctx.runId }).catch(() => undefined);
  try {
    if (parts.length > 1) {
      const first = recordingPartFileName(id, rec.format, 1);
      if (parts[0].fileName !== first) {
        await rename(output, path.join(dir, first));
        parts[0].fileName = first;
        await store.update(id, { parts, heartbeatAt: Date.now() }, { owner: ctx.runId }); // the record names the files as they are now
      }
      const playable = parts.filter((p) => p.durationSeconds).map((p) => ({ file: path.join(dir, p.fileName), durationSeconds: p.durationSeconds! }));
      const stitched = await beating(store, id, ctx.runId, stitchParts({ bins, format: rec.format, parts: playable, output }));
      if (stitched.ok) {
        ({ durationSeconds, sizeBytes } = stitched);
        log(`stitched ${playable.length} parts into ${output}`);
      } else {
        ({ durationSeconds, sizeBytes } = partsTotals(parts));
        warning = `its ${parts.length} parts could not be stitched into one file (${stitched.error.slice(0, 300)}); each part is kept and downloadable`;
      }
    } else {
      durationSeconds = parts[0]?.durationSeconds;
      sizeBytes = parts[0]?.sizeBytes ?? (await fileSize(output));
      if (finishing && durationSeconds) {
        const t0 = Date.now();
        const onProgress = (seconds: number) =>
          void ctx.job.updateProgress({ ...partsTotals(parts), finishingPercent: Math.min(100, Math.round((seconds / durationSeconds!) * 100)) }).catch(() => undefined);
        const done = await beating(store, id, ctx.runId, finishFile({ bins, file: output, tmp: path.join(dir, finishingFileName(id, rec.format)), format: rec.format, originalSeconds: durationSeconds, onProgress }));
        if (done.ok) {
          ({ durationSeconds, sizeBytes } = done);
          log(`finished in ${Date.now() - t0} ms: ${output} has its index at the front`);
        } else warning = `its file could not be rewritten with its index at the front (${done.error.slice(0, 300)}); it is kept as recorded (playable, slower to seek)`;
      }
    }
  } catch (e) {
    ({ durationSeconds, sizeBytes } = partsTotals(parts));
    warning = `its ${parts.length} parts could not be stitched into one file (${(e as Error).message}); each part is kept`;
  }
  if (warning) ctx.logger?.warn(`[recording ${id}] ${warning}`);
  if (finishing && durationSeconds && !rec.audioOnly && (await fileSize(output)) > 0) {
    const why = await beating(store, id, ctx.runId, makeThumbnail({ bins, file: output, output: path.join(dir, thumbnailFileName(id)), durationSeconds }));
    if (why) ctx.logger?.warn(`[recording ${id}] no thumbnail: ${why.slice(0, 300)}`);
    else thumbnailUrl = thumbnailUrlOf(id);
  }
  // on the disk before anyone is told it is ready: its files' data, then the directory (the renames)
  const files = [output, ...parts.map((p) => path.join(dir, p.fileName)), ...(thumbnailUrl ? [path.join(dir, thumbnailFileName(id))] : [])];
  const unsynced = await makeDurable(await existing(files), dir).then(
    () => undefined,
    (e: Error) => e.message,
  );
  if (unsynced && !failure && durationSeconds) failure = `its file could not be flushed to the disk (${unsynced.slice(0, 200)}); what was written is kept`;
  const endedAt = new Date().toISOString();
  const common = { endedAt, sizeBytes, ...(parts.length ? { parts } : {}), ...(warning ? { warning } : {}), ...(thumbnailUrl ? { thumbnailUrl } : {}) };
  try {
    if (failure) {
      log(`failed: ${failure}`);
      await store.update(id, { status: 'failed', error: failure, ...common, ...(durationSeconds ? { durationSeconds } : {}) }, { allowNoop: true, owner: ctx.runId });
    } else if (!durationSeconds) {
      await store.update(id, { status: 'failed', error: 'the file is not playable (no media reached it)', ...common }, { allowNoop: true, owner: ctx.runId });
    } else {
      log(`ready: ${durationSeconds.toFixed(1)} s, ${sizeBytes} bytes${parts.length > 1 ? `, ${parts.length} parts` : ''}`);
      await store.update(id, { status: 'ready', durationSeconds: Math.round(durationSeconds * 100) / 100, ...common }, { allowNoop: true, owner: ctx.runId });
    }
  } catch (e) {
    ctx.logger?.warn(`[recording ${id}] could not store its final state (${(e as Error).message}); the file ${output} is complete`);
  }
}

/** The files of `files` that exist (a part renamed, a thumbnail not made). */
async function existing(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of new Set(files)) {
    if (await stat(f).then(() => true, () => false)) out.push(f);
  }
  return out;
}

/** Awaits `p`, refreshing the record's heartbeat every second meanwhile (one after the other: store updates must not overlap). */
async function beating<T>(store: RecordingStore, id: string, owner: string, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    let beat: NodeJS.Timeout | undefined;
    await Promise.race([p.catch(() => undefined), new Promise((r) => (beat = setTimeout(r, 1000)))]);
    clearTimeout(beat); // p settled first: a pending beat would hold a closing worker's process for up to a second
    if (!done) await store.update(id, { heartbeatAt: Date.now() }, { owner }).catch(() => undefined);
  }
  return p;
}
