import { randomUUID } from 'node:crypto';
import type { VideoCodec } from '@app/core';
import { type Job, WaitingError } from 'bullmq';
import { isLivestreamFinal, type Livestream, livestreamBackoffMs, redactUrl } from '../../livestream';
import type { LivestreamStore } from '../../livestream-store';
import type { LivestreamJobData } from '../../queues';
import { childLogger, type EncodedFrame, type Logger, type MixSource, RtmpSink } from '@app/media';
import { connectMix, MIX_SILENCE_LOST_MS, type MixSourceDeps, waitForStopRequest } from '../mix-source';

export interface LivestreamDeps extends MixSourceDeps {
  store: LivestreamStore;
  ffmpegPath: string;
  logger?: Logger;
  /** Failed attempts in a row before the livestream is `failed`. */
  maxAttempts: number;
  /** First retry delay; doubles per failed attempt (capped at 30 s). */
  backoffMs: number;
  /** Set when this worker shuts down: running livestreams hand their job back to the queue instead of ending. */
  shuttingDown?: { value: boolean };
  /** Ids of the livestreams this process is pushing right now. */
  active?: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** An attempt with no output progress for this long has failed (a destination that accepts but never reads). */
const CONNECT_TIMEOUT_MS = 20_000;

type AttemptEnd = { kind: 'stop'; reason: string } | { kind: 'error'; message: string } | { kind: 'shutdown' } | { kind: 'superseded' };

/**
 * One BullMQ job per livestream: tap the room's mix, push it with ffmpeg, and keep it up. When ffmpeg exits or the
 * destination refuses, the status becomes `reconnecting` with `lastError` and the push is retried with exponential
 * backoff; `active` only once ffmpeg reports media written to the destination; `failed` after `maxAttempts` failures in
 * a row; `stopped` on DELETE or when the room is deleted. A job picked up again after its worker died resumes pushing.
 */
export function livestreamProcessor(deps: LivestreamDeps) {
  const { store, logger } = deps;
  return async (job: Job<LivestreamJobData>, token?: string): Promise<void> => {
    const id = job.data.livestreamId;
    const ls = await store.find(id);
    if (!ls || isLivestreamFinal(ls.status)) return;
    if (ls.stopRequested) {
      await store.update(id, { status: 'stopped', endedAt: new Date().toISOString() }, { allowNoop: true });
      return;
    }
    const fields = { livestream: id, room: ls.room, job: job.id };
    const tagged = childLogger(logger, fields, `[livestream ${id} room ${ls.room}] `);
    const log = (m: string) => tagged?.log(m);
    deps.active?.add(id);
    let handBack = false;
    try {
      handBack = await run(id, ls, job.data.videoCodec, { ...deps, logger: childLogger(logger, fields) }, log);
    } finally {
      deps.active?.delete(id);
    }
    if (handBack) {
      // Shutting down: put the job back so the next worker (or this server after its restart) resumes the push.
      await job.moveToWait(token);
      throw new WaitingError();
    }
  };
}

/** Returns true when the job must be handed back to the queue (worker shutdown). */
async function run(id: string, record: Livestream, planned: VideoCodec | undefined, deps: LivestreamDeps, log: (m: string) => void): Promise<boolean> {
  const { store } = deps;
  const resumed = record.status !== 'queued';
  const runId = randomUUID();
  if (resumed) {
    log(`resuming (it was ${record.status} when its worker stopped)`);
    await store.update(id, { status: 'reconnecting', lastError: 'its worker stopped; resumed by another', heartbeatAt: Date.now(), runId }, { allowNoop: true });
  } else {
    await store.update(id, { status: 'connecting', heartbeatAt: Date.now(), runId });
  }
  const ls: Livestream = { ...record, runId };
  let hadMedia = Boolean(ls.activeSince);
  let failures = ls.failedAttempts;
  let source: MixSource | undefined;
  // a source that ends between attempts (during a backoff) is forgotten, so the next attempt connects again
  const setSource = (s: MixSource | undefined) => {
    source = s;
    s?.once('closed', () => source === s && (source = undefined));
  };
  let end: AttemptEnd;
  try {
    for (;;) {
      end = await attempt(id, ls, planned, deps, log, () => source, (s) => setSource(s), async () => {
        const first = !hadMedia;
        hadMedia = true;
        failures = 0;
        const cur = await store.get(id);
        await store.update(id, { status: 'active', activeSince: new Date().toISOString(), failedAttempts: 0, reconnects: cur.reconnects + (first ? 0 : 1), heartbeatAt: Date.now() });
        log(first ? 'active: media is reaching the destination' : 'active again after a reconnect');
      });
      if (end.kind !== 'error') break;
      failures++;
      const message = redactUrl(end.message, ls.url);
      if (failures >= deps.maxAttempts) {
        log(`failed after ${failures} attempts in a row: ${message}`);
        await store.update(id, { status: 'failed', lastError: message, failedAttempts: failures, endedAt: new Date().toISOString() }, { allowNoop: true });
        return false;
      }
      const wait = livestreamBackoffMs(failures, deps.backoffMs);
      log(`attempt ${failures} failed (${message}); retrying in ${wait} ms`);
      await store.update(id, { status: 'reconnecting', lastError: message, failedAttempts: failures, heartbeatAt: Date.now() }, { allowNoop: true });
      const until = Date.now() + wait;
      let interrupted: AttemptEnd | undefined;
      for (let tick = 1; Date.now() < until && !interrupted; tick++) {
        await sleep(Math.min(200, until - Date.now()));
        if (tick % 10 === 0) await store.update(id, { heartbeatAt: Date.now() });
        if (deps.shuttingDown?.value) interrupted = { kind: 'shutdown' };
        else {
          const cur = await store.get(id);
          if (cur.runId !== runId) interrupted = { kind: 'superseded' };
          else if (cur.stopRequested) interrupted = { kind: 'stop', reason: cur.stopRequested };
        }
      }
      if (interrupted) {
        end = interrupted;
        break;
      }
    }
  } catch (e) {
    end = { kind: 'error', message: (e as Error).message };
    await store.update(id, { status: 'failed', lastError: redactUrl(end.message, ls.url), endedAt: new Date().toISOString() }, { allowNoop: true }).catch(() => undefined);
  } finally {
    await (source as MixSource | undefined)?.close().catch(() => undefined);
  }
  if (end.kind === 'superseded') {
    log('another worker took this livestream over; hanging up (its status is theirs now)');
    return false;
  }
  if (end.kind === 'shutdown') {
    log('handing back to the queue: this worker is shutting down');
    return true;
  }
  if (end.kind === 'stop') {
    log(`stopped: ${end.reason}`);
    await store.update(id, { status: 'stopped', endedAt: new Date().toISOString() }, { allowNoop: true });
  }
  return false;
}

/** One connection: runs until ffmpeg exits, the source ends, a stop is asked for, or the worker shuts down. */
async function attempt(
  id: string,
  ls: Livestream,
  planned: VideoCodec | undefined,
  deps: LivestreamDeps,
  log: (m: string) => void,
  getSource: () => MixSource | undefined,
  setSource: (s: MixSource | undefined) => void,
  onActive: () => Promise<void>,
): Promise<AttemptEnd> {
  const { store } = deps;
  let source = getSource();
  if (!source) {
    try {
      source = await connectMix(deps, ls.room, `livestream-${ls.id}`, true);
    } catch (e) {
      return { kind: 'error', message: `cannot reach the room's mix: ${(e as Error).message}` };
    }
    setSource(source);
  }
  let sourceClosed: string | undefined;
  const onClosed = (reason: string) => (sourceClosed = reason);
  source.on('closed', onClosed);
  let progressed = false;
  // the codec was known when the livestream was created; a job from an older server learns it from the mix
  const videoCodec = planned ?? source.videoCodec ?? 'h264';
  const pusher = new RtmpSink({ ffmpegPath: deps.ffmpegPath, url: ls.url, videoCodec, logger: deps.logger, label: `livestream ${id}`, onProgress: () => (progressed = true) });
  let exited: string | undefined;
  pusher.on('exit', (exit) => (exited = exit.message));
  const onVideo = (f: EncodedFrame) => pusher.video(f);
  const onAudio = (p: Buffer, ts: number) => pusher.audio(p, ts);
  source.on('video', onVideo);
  source.on('audio', onAudio);
  pusher.start();
  const startedAt = Date.now();
  let active = false;
  let end: AttemptEnd | undefined;
  try {
    for (let tick = 0; !end; tick++) {
      await sleep(250);
      if (deps.shuttingDown?.value) end = { kind: 'shutdown' };
      else if (progressed && !active) {
        active = true;
        await onActive();
      } else if (exited) end = { kind: 'error', message: exited };
      else if (sourceClosed) {
        setSource(undefined);
        const stop = await waitForStopRequest(() => store.get(id));
        end = stop ? { kind: 'stop', reason: stop } : { kind: 'error', message: `lost the room's mix: ${sourceClosed}` };
      } else if (!active && Date.now() - startedAt > CONNECT_TIMEOUT_MS) end = { kind: 'error', message: `no media reached the destination within ${CONNECT_TIMEOUT_MS / 1000} s` };
      else if (Date.now() - source.lastMediaAt > MIX_SILENCE_LOST_MS) {
        // A silent source is a lost one (its room moved, or its node or media worker died; a WHEP peer is not told for
        // 30 s): drop it, so the next attempt connects to the room again (on whichever node has it) instead of reusing it.
        setSource(undefined);
        await source.close().catch(() => undefined);
        end = { kind: 'error', message: `no media from the room for ${MIX_SILENCE_LOST_MS / 1000} s` };
      }
      if (!end && tick % 4 === 0) {
        const cur = await store.get(id);
        if (cur.runId !== ls.runId) end = { kind: 'superseded' };
        else if (cur.stopRequested) end = { kind: 'stop', reason: cur.stopRequested };
        else if (tick % 8 === 0) {
          // the heartbeat also puts back `active` if the server's sweep thought this worker had gone silent
          const back = active && cur.status !== 'active';
          await store.update(id, { heartbeatAt: Date.now(), ...(back ? { status: 'active' as const, lastError: undefined } : {}) }, { allowNoop: true });
        }
      }
    }
  } finally {
    source.off('video', onVideo);
    source.off('audio', onAudio);
    source.off('closed', onClosed);
    await pusher.stop();
  }
  if (end.kind === 'error') log(`connection ended: ${redactUrl(end.message, ls.url)}`);
  return end;
}
