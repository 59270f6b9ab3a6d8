import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { RecordingStore } from '@app/jobs';
import { REDIS_INFO, type RedisInfo } from '../../apps/server/src/recordings/jobs.providers';
import { NAMED_COLORS, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { probe } from '../support/media-file';

/**
 * Recording faults with real processes: a recording whose job was lost (its record ended or taken over by someone
 * else, its BullMQ lock gone) stops writing within seconds, its file closed and playable; a small real filesystem
 * (tmpfs) running low and then full. (kill -9 of a worker and of the recorder's ffmpeg: recording.e2e-spec.ts.)
 */
type Json = Record<string, unknown>;

/** The recorder ffmpeg(s) writing this recording's file: the only processes whose arguments name it. */
export function recorderPids(id: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return path.basename(cmd[0]).startsWith('ffmpeg') && cmd.some((a) => a.includes(id));
      } catch {
        return false;
      }
    })
    .map(Number);
}

const sizeOf = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

describe('a recording that lost its job stops writing', () => {
  let t: TestApp;
  let pub: Publisher | undefined;
  let redis: Redis | undefined;
  const ROOM = 'owner';

  beforeAll(async () => {
    t = await startTestApp({ RECORDING_HEARTBEAT_TIMEOUT_SECONDS: '30' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, 'p'), color: NAMED_COLORS.blue as Rgb, width: 320, height: 180, fps: 15 });
    await pub.connected();
    redis = new Redis(t.app.get<RedisInfo>(REDIS_INFO).url, { maxRetriesPerRequest: null });
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await pub?.close();
    await t?.close();
  });

  /** Starts a recording and waits until it has been writing for ~2 s; returns its id and file. */
  const recording = async (audioOnly = false) => {
    const r = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, { audioOnly });
    expect(r.status).toBe(201);
    const id = (r.json as Json).id as string;
    await waitFor(async () => ((await t.admin('GET', `/v1/recordings/${id}`)).json as Json).status === 'active', 20_000, `${id} active`, 200);
    const file = path.join(t.config.recordingsDir, `${id}.mp4`);
    await waitFor(() => sizeOf(file) > 0 && recorderPids(id).length === 1, 10_000, `${id}'s ffmpeg writing`, 200);
    await sleep(2000);
    return { id, file };
  };

  /** Its ffmpeg gone within a few seconds, the file no longer growing, and playable. */
  const expectStopped = async (id: string, file: string) => {
    await waitFor(() => recorderPids(id).length === 0, 8000, `${id}'s ffmpeg to exit`, 200);
    const size = sizeOf(file);
    await sleep(2000);
    expect(sizeOf(file)).toBe(size);
    expect(probe(file).durationSeconds).toBeGreaterThan(1);
  };

  it('marked failed by someone else (the sweep, another worker): stops, file playable, the failure kept', async () => {
    const { id, file } = await recording();
    // the server's own store, not the worker's: "someone else"
    await t.app.get(RecordingStore).update(id, { status: 'failed', error: 'marked failed by the test', endedAt: new Date().toISOString() });
    await expectStopped(id, file);
    const after = (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
    expect(after).toMatchObject({ status: 'failed', error: 'marked failed by the test' });
  }, 45_000);

  it('its BullMQ job lock lost: stops, ends failed saying so, file playable', async () => {
    const { id, file } = await recording();
    await redis!.del(`bull:mcu-recordings:${id}:lock`);
    await expectStopped(id, file);
    const after = await waitFor(async () => {
      const cur = (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
      return cur.status === 'failed' ? cur : undefined;
    }, 10_000, `${id} failed`, 200);
    // this run says so, unless BullMQ's stalled-job check handed the job to another run first (which says the worker stopped)
    expect(after.error).toMatch(/lost its job's lock|stopped unexpectedly/);
  }, 45_000);

  it('taken over by another run (its owner token replaced): stops and writes nothing more to the record', async () => {
    const { id, file } = await recording(true);
    const store = t.app.get(RecordingStore);
    await store.update(id, { runId: 'another-run' });
    await expectStopped(id, file);
    const before = await store.get(id);
    await sleep(1500);
    const after = await store.get(id);
    expect(after).toMatchObject({ runId: 'another-run', status: before.status, rev: before.rev });
    // (the run the test invented never comes: end it, as the heartbeat sweep would after RECORDING_HEARTBEAT_TIMEOUT)
    await store.update(id, { status: 'failed', error: 'ended by the test', endedAt: new Date().toISOString() });
  }, 45_000);
});

/** Writes zeros to `file` until the filesystem has about `leaveMib` free (0: until it is full, ENOSPC). */
function fillDisk(file: string, leaveMib: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const s = statfsSync(path.dirname(file));
      if ((s.bavail * s.bsize) / 1048576 <= leaveMib) break;
      writeSync(fd, chunk);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

/** Whether this process may mount a tmpfs (root in a container that allows it). */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether a tmpfs can be mounted here: tried once on a probe directory, unmounted at once. */
function canMountTmpfs(): boolean {
  const probeDir = mkdtempSync(path.join(tmpdir(), 'mcu-mount-probe-'));
  const ok = mountTmpfs(probeDir, '1m');
  if (ok) execFileSync('umount', [probeDir]);
  rmSync(probeDir, { recursive: true, force: true });
  return ok;
}

const mountable = canMountTmpfs();
if (!mountable) console.warn('recording-faults: cannot mount a tmpfs here (not root, or not permitted): the disk space tests are skipped');

(mountable ? describe : describe.skip)('recordings on a small filesystem (a 16 MB tmpfs)', () => {
  // made and mounted only when these tests run (a filtered run that skips them leaves nothing behind)
  let mnt = '';
  let t: TestApp;
  let pub: Publisher | undefined;
  let dir = '';
  let filler = '';
  const ROOM = 'disk';

  beforeAll(async () => {
    mnt = mkdtempSync(path.join(tmpdir(), 'mcu-smallfs-'));
    [dir, filler] = [path.join(mnt, 'recordings'), path.join(mnt, 'filler')];
    if (!mountTmpfs(mnt, '16m')) throw new Error(`cannot mount a tmpfs on ${mnt}`);
    mkdirSync(dir, { recursive: true });
    t = await startTestApp({ RECORDINGS_DIR: dir, MIN_FREE_DISK_MB: '6', RECORDING_STOP_FREE_DISK_MB: '3' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`, token: await t.token(ROOM, 'p'), color: NAMED_COLORS.blue as Rgb, width: 320, height: 180, fps: 15 });
    await pub.connected();
  }, 60_000);

  afterAll(async () => {
    await pub?.close();
    await t?.close();
    if (mnt) {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
      rmSync(mnt, { recursive: true, force: true });
    }
  });
  afterEach(() => filler && rmSync(filler, { force: true }));

  const start = async () => {
    const r = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {});
    expect(r.status).toBe(201);
    const id = (r.json as Json).id as string;
    await waitFor(async () => ((await t.admin('GET', `/v1/recordings/${id}`)).json as Json).status === 'active', 20_000, `${id} active`, 200);
    await sleep(2500);
    return { id, file: path.join(dir, `${id}.mp4`) };
  };
  const ended = (id: string) =>
    waitFor(async () => {
      const cur = (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;
      return cur.status === 'failed' || cur.status === 'ready' ? cur : undefined;
    }, 20_000, `${id} to end`, 200);

  it('refuses to start a recording below MIN_FREE_DISK_MB: 507 insufficient_storage, nothing stored', async () => {
    fillDisk(filler, 4);
    const before = ((await t.admin('GET', `/v1/recordings?room=${ROOM}`)).json as { items: unknown[] }).items.length;
    const r = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {});
    expect(r.status).toBe(507);
    expect(r.json).toEqual({ error: { code: 'insufficient_storage', message: expect.stringMatching(/MIN_FREE_DISK_MB/) } });
    expect(((await t.admin('GET', `/v1/recordings?room=${ROOM}`)).json as { items: unknown[] }).items).toHaveLength(before);
  }, 30_000);

  it('stops a running recording when free space falls below RECORDING_STOP_FREE_DISK_MB: failed saying so, file playable', async () => {
    const { id, file } = await start();
    fillDisk(filler, 2);
    const end = await ended(id);
    expect(end).toMatchObject({ status: 'failed', error: expect.stringMatching(/RECORDING_STOP_FREE_DISK_MB/) });
    expect(recorderPids(id)).toEqual([]);
    expect(probe(file).durationSeconds).toBeGreaterThan(1);
  }, 45_000);

  it('disk full (ENOSPC) during a recording: ends failed with what it wrote, the server keeps serving', async () => {
    const { id, file } = await start();
    fillDisk(filler, 0);
    const end = await ended(id);
    expect(end.status).toBe('failed');
    // ffmpeg's own ENOSPC error, unless the free-space floor check saw the full disk first
    expect(String(end.error)).toMatch(/No space left on device|RECORDING_STOP_FREE_DISK_MB/);
    expect(recorderPids(id)).toEqual([]);
    expect(probe(file).durationSeconds).toBeGreaterThan(1);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    // and once there is room again, recordings start again
    rmSync(filler, { force: true });
    const again = await t.admin('POST', `/v1/rooms/${ROOM}/recordings`, {});
    expect(again.status).toBe(201);
    await t.admin('POST', `/v1/recordings/${(again.json as Json).id as string}/stop`);
  }, 45_000);
});
