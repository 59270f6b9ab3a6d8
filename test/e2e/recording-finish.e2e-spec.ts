import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REDIS_INFO, type RedisInfo } from '../../apps/server/src/recordings/jobs.providers';
import { isFragmented } from '../helpers/container-index';
import { NAMED_COLORS, type Rgb } from '../helpers/media-probe';
import { type Publisher, startPublisher } from '../helpers/synthetic-publisher';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';
import { probe } from '../support/media-file';

/**
 * A kill -9 while a recording is being finished (rewritten with its index at the front) leaves a playable file and a
 * true record: killing the finishing ffmpeg, and killing the worker that runs it. The worker is a separate process whose
 * ffmpeg is a wrapper that waits 4 s before a finishing run (its output name has `.finishing.`), so there is time to
 * kill it; it is found by its command line among this test's descendants.
 */
type Json = Record<string, unknown>;

/** Pids of the processes below `root` whose command line contains `text`. */
function descendantsWith(root: number, text: string): number[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      /* gone meanwhile */
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 50; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...cmd].filter(([pid, c]) => c.includes(text) && below(pid)).map(([pid]) => pid);
}

describe('a kill -9 during finishing', () => {
  let t: TestApp;
  let worker: ChildProcess | undefined;
  let pub: Publisher | undefined;
  const bin = mkdtempSync(path.join(tmpdir(), 'slow-finish-'));
  const auth = () => ({ authorization: `Basic ${Buffer.from(`${t.config.apiKey}:${t.config.apiSecret}`).toString('base64')}` });
  const rec = async (id: string) => (await t.admin('GET', `/v1/recordings/${id}`)).json as Json;

  beforeAll(async () => {
    const ffmpeg = path.join(bin, 'ffmpeg');
    writeFileSync(ffmpeg, `#!/bin/sh\ncase "$*" in *.finishing.*) sleep 4 ;; esac\nexec ffmpeg "$@"\n`);
    chmodSync(ffmpeg, 0o755);
    t = await startTestApp({ RUN_WORKER: 'false', RECORDING_HEARTBEAT_TIMEOUT_SECONDS: '4' });
    worker = spawn(process.execPath, [path.join(__dirname, '../../dist/apps/worker/src/main.js')], {
      env: { ...process.env, REDIS_URL: t.app.get<RedisInfo>(REDIS_INFO).url, MCU_SERVER_URL: t.baseUrl, RECORDINGS_DIR: t.config.recordingsDir, FFMPEG_PATH: ffmpeg, LOG_LEVEL: 'warn', MCU_API_KEY: '', MCU_API_SECRET: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await t.admin('POST', '/v1/rooms', { name: 'fin', width: 640, height: 360, fps: 15 });
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/fin/whip`, token: await t.token('fin', 'p'), color: NAMED_COLORS.blue as Rgb, width: 320, height: 180, fps: 15 });
    await pub.connected();
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    for (const pid of descendantsWith(process.pid, bin)) process.kill(pid, 'SIGKILL');
    await pub?.close();
    await t?.close();
    rmSync(bin, { recursive: true, force: true });
  });

  /** Records ~3 s, stops, and returns once the finishing ffmpeg runs (its pids). */
  const recordUntilFinishing = async () => {
    const r = (await t.admin('POST', '/v1/rooms/fin/recordings', {})).json as Json;
    const id = r.id as string;
    await waitFor(async () => (await rec(id)).status === 'active', 30_000, 'active');
    await sleep(3000);
    expect((await t.admin('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const pids = await waitFor(() => {
      const found = descendantsWith(process.pid, `${id}.finishing.mp4`);
      return found.length ? found : undefined;
    }, 15_000, 'the finishing ffmpeg', 50);
    expect((await rec(id)).status).toBe('finishing');
    return { id, pids };
  };
  const downloadPlayable = async (id: string) => {
    const res = await fetch(`${t.baseUrl}/v1/recordings/${id}/file`, { headers: auth() });
    expect(res.status).toBe(200);
    const file = path.join(tmpdir(), `${id}-finish.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    expect(probe(file).durationSeconds).toBeGreaterThan(2);
    return readFileSync(file);
  };

  it('of its ffmpeg: the recording is ready with the file as recorded, and says so', async () => {
    const { id, pids } = await recordUntilFinishing();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const done = await waitFor(async () => {
      const cur = await rec(id);
      return cur.status === 'ready' || cur.status === 'failed' ? cur : undefined;
    }, 20_000, 'the recording to end');
    expect(done).toMatchObject({ status: 'ready', warning: expect.stringMatching(/kept as recorded/), durationSeconds: expect.any(Number), sizeBytes: expect.any(Number) });
    const bytes = await downloadPlayable(id);
    expect(isFragmented(bytes)).toBe(true); // the crash-safe original
    expect(existsSync(path.join(t.config.recordingsDir, `${id}.finishing.mp4`))).toBe(false);
  });

  it('of its worker: the server falls back to the file as recorded, and says so', async () => {
    const { id, pids } = await recordUntilFinishing();
    worker!.kill('SIGKILL');
    for (const pid of pids) process.kill(pid, 'SIGKILL'); // orphaned now (a spawner would take its children along)
    const done = await waitFor(async () => {
      const cur = await rec(id);
      return cur.status === 'ready' || cur.status === 'failed' ? cur : undefined;
    }, 20_000, 'the server to notice');
    expect(done).toMatchObject({ status: 'ready', warning: expect.stringMatching(/worker stopped while finishing/) });
    await downloadPlayable(id);
    expect(readdirSync(t.config.recordingsDir).filter((f) => f.startsWith(id))).toEqual([`${id}.mp4`]);
  });
});
