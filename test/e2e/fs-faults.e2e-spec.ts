import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Issue 14, "fatal fs errors": a file-system error in a timer-driven path (the HLS output stopped for idleness, whose
 * files cannot be removed) must be logged, never end the server with an unhandled rejection. The error is real: the
 * HLS directory is replaced by a file while the output runs.
 */
const ROOM = 'fs-faults';

describe('file-system errors in timers', () => {
  let t: TestApp;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    t = await startTestApp({ HLS_IDLE_TIMEOUT_SECONDS: '2', HLS_SEGMENT_SECONDS: '1' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM, width: 320, height: 180, fps: 15 })).status).toBe(201);
  });
  afterAll(async () => {
    process.removeListener('unhandledRejection', onRejection);
    rmSync(path.join(t.config.dataDir, 'hls'), { recursive: true, force: true });
    await t?.close();
  });

  it('HLS stopped for idleness while its directory is gone (ENOTDIR): logged, no unhandled rejection, the server goes on', async () => {
    const hls = path.join(t.config.dataDir, 'hls');
    expect((await t.admin('POST', `/v1/rooms/${ROOM}/hls`)).status).toBe(202);
    await waitFor(() => existsSync(path.join(hls, ROOM)) && readdirSync(path.join(hls, ROOM)).some((f) => f.endsWith('.ts')), 20_000, 'HLS segments');
    rmSync(hls, { recursive: true, force: true });
    writeFileSync(hls, 'not a directory'); // removing $DATA_DIR/hls/<room> now fails with ENOTDIR
    await waitFor(async () => ((await t.admin('GET', `/v1/rooms/${ROOM}/hls`)).json as { running: boolean }).running === false, 15_000, 'the idle HLS output to stop');
    await sleep(1000);
    expect(rejections.map(String)).toEqual([]);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    expect((await t.admin('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
    // a new HLS start where its directory cannot be made is a clear error, not a crash
    const again = await t.admin('POST', `/v1/rooms/${ROOM}/hls`);
    expect(again.status).toBeGreaterThanOrEqual(500);
    expect(again.json).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    await sleep(500);
    expect(rejections.map(String)).toEqual([]);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  }, 60_000);
});
