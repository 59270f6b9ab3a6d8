import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import { isFinal, type Recording, type RecordingJobData, recordingFileName, type RecordingStore } from '@app/jobs';
import type { Logger, MixSource } from '@app/media';
import { Recorder } from './recorder';
import { connectMix, type MixSourceDeps, waitForStopRequest } from '../mix-source';

export interface RecordingDeps extends MixSourceDeps {
  store: RecordingStore;
  ffmpegPath: string;
  recordingsDir: string;
  logger?: Logger;
  /** Ids of the recordings this process is running right now (for a graceful stop on shutdown). */
  active?: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ffprobe that came with this ffmpeg (same directory), or the one on PATH. */
export const ffprobeFor = (ffmpegPath: string): string => (path.dirname(ffmpegPath) === '.' ? 'ffprobe' : path.join(path.dirname(ffmpegPath), 'ffprobe'));

/**
 * The file's duration by ffprobe. Asynchronous on purpose: an embedded worker shares its event loop with the mixer
 * clocks, which a synchronous child process would stall.
 */
export function probeDuration(file: string, ffprobe: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file], { timeout: 15_000 }, (err, stdout) => {
      const d = Number(String(stdout).trim());
      resolve(!err && Number.isFinite(d) && d > 0 ? d : undefined);
    });
  });
}

/**
 * One recording job: join the room as a hidden WHEP subscriber, copy the mix into a file with ffmpeg, report progress
 * (BullMQ progress and the stored record) every second, and stop when asked (API, empty room, deleted room).
 */
export function recordingProcessor(deps: RecordingDeps) {
  const { store, logger } = deps;
  return async (job: Job<RecordingJobData>): Promise<void> => {
    const id = job.data.recordingId;
    const rec = await store.find(id);
    if (!rec || isFinal(rec.status)) return;
    const log = (m: string) => logger?.log(`[recording ${id} room ${rec.room}] ${m}`);
    if (rec.stopRequested && rec.status === 'queued') {
      await store.update(id, { status: 'failed', error: 'stopped before it started: nothing was recorded', endedAt: new Date().toISOString() }, { allowNoop: true });
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
      await record(id, rec, deps, job, log);
    } finally {
      deps.active?.delete(id);
    }
  };
}

async function record(id: string, rec: Recording, deps: RecordingDeps, job: Job<RecordingJobData>, log: (m: string) => void): Promise<void> {
  const { store, logger } = deps;
  mkdirSync(deps.recordingsDir, { recursive: true });
  const output = path.join(deps.recordingsDir, recordingFileName(id, rec.format));
  await store.update(id, { status: 'starting', heartbeatAt: Date.now() });
  let client: MixSource | undefined;
  let recorder: Recorder | undefined;
  let failure: string | undefined;
  try {
    client = await connectMix(deps, rec.room, `recorder-${id}`, !rec.audioOnly);
    recorder = new Recorder({ ffmpegPath: deps.ffmpegPath, format: rec.format, audioOnly: rec.audioOnly, videoCodec: client.videoCodec, output, logger });
    const rc = recorder;
    let exited: string | undefined;
    rc.on('exit', (code, tail) => (exited = `ffmpeg exited with ${code}: ${tail || 'no output'}`));
    rc.start();
    client.on('video', (f) => rc.video(f));
    client.on('audio', (p, ts) => rc.audio(p, ts));
    let connectionLost: string | undefined;
    client.on('closed', (reason) => (connectionLost = reason));
    log(`recording to ${output} (${rec.format}${rec.audioOnly ? ', audio only' : `, video ${client.videoCodec}`})`);

    // starting → active once media flows into the file
    const startDeadline = Date.now() + 15_000;
    while (!rc.startedAt && !exited && !connectionLost && Date.now() < startDeadline) {
      if ((await store.get(id)).stopRequested) break;
      await sleep(100);
    }
    if (!rc.startedAt) throw new Error(exited ?? connectionLost ?? 'no media arrived from the room within 15 s');
    await store.update(id, { status: 'active', startedAt: new Date(rc.startedAt).toISOString(), heartbeatAt: Date.now() });
    log('active');

    for (let tick = 1; ; tick++) {
      await sleep(250);
      const cur = await store.get(id);
      if (tick % 4 === 0 || cur.stopRequested) {
        const progress = { durationSeconds: Math.round(rc.durationSeconds * 10) / 10, sizeBytes: rc.sizeBytes };
        await job.updateProgress(progress);
        await store.update(id, { ...progress, heartbeatAt: Date.now() });
      }
      if (cur.stopRequested) {
        log(`stopping: ${cur.stopRequested}`);
        break;
      }
      if (exited) throw new Error(exited);
      if (connectionLost) {
        // A deleted room ends its stream first and its stop request lands just after (the server stops a deleted
        // room's recordings at once; a remote server's sweep within 2 s): that is a normal stop, not a failure.
        const stop = await waitForStopRequest(() => store.get(id));
        if (stop) {
          log(`stopping: ${stop}`);
          break;
        }
        throw new Error(`lost the room's stream: ${connectionLost}`);
      }
      if (Date.now() - client.lastMediaAt > 10_000) throw new Error('no media from the room for 10 s');
    }
  } catch (e) {
    failure = (e as Error).message;
  }
  if (!failure) await store.update(id, { status: 'stopping' }, { allowNoop: true }).catch(() => undefined);
  // Media first (always), bookkeeping second: a store error must never leave a peer connection or ffmpeg behind.
  await client?.close().catch(() => undefined);
  const code = await recorder?.stop().catch(() => null);
  const durationSeconds = await probeDuration(output, ffprobeFor(deps.ffmpegPath));
  const sizeBytes = recorder?.sizeBytes ?? 0;
  const endedAt = new Date().toISOString();
  try {
    if (failure) {
      log(`failed: ${failure}`);
      await store.update(id, { status: 'failed', error: failure, endedAt, sizeBytes, ...(durationSeconds ? { durationSeconds } : {}) }, { allowNoop: true });
    } else if (!durationSeconds) {
      await store.update(id, { status: 'failed', error: `the file is not playable (ffmpeg exit ${code})`, endedAt, sizeBytes }, { allowNoop: true });
    } else {
      log(`ready: ${durationSeconds.toFixed(1)} s, ${sizeBytes} bytes`);
      await store.update(id, { status: 'ready', endedAt, durationSeconds: Math.round(durationSeconds * 100) / 100, sizeBytes }, { allowNoop: true });
    }
  } catch (e) {
    logger?.warn(`[recording ${id}] could not store its final state (${(e as Error).message}); the file ${output} is complete`);
  }
}
