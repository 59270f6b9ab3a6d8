import { readdirSync, readFileSync, statSync } from 'node:fs';
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
 * else, its BullMQ lock gone) stops writing within seconds, its file closed and playable.
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
  }, 45_000);
});
