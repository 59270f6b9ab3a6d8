import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FfmpegExit } from './ffmpeg-exit';
import { RecordingSink } from './recording-sink';
import { RtmpSink } from './rtmp-sink';

/** Sinks whose ffmpeg binary is missing: a real spawn that fails with ENOENT must end the sink, not the process. */
describe('a sink without its ffmpeg binary', () => {
  const MISSING = '/nonexistent/bin/ffmpeg';
  const dir = mkdtempSync(path.join(tmpdir(), 'sink-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a recording sink reports "ffmpeg not found at <path>", is not running, and stops at once', async () => {
    const r = new RecordingSink({ ffmpegPath: MISSING, format: 'mp4', audioOnly: false, videoCodec: 'h264', output: path.join(dir, 'x.mp4') });
    const exit = new Promise<FfmpegExit>((resolve) => r.once('exit', resolve));
    r.start();
    expect(await exit).toMatchObject({ kind: 'spawn-failed', code: null, signal: null, message: `ffmpeg not found at ${MISSING}` });
    expect(r.running).toBe(false);
    r.video({ data: Buffer.alloc(10), timestamp: 0, isKeyframe: true }); // writes to the dead pipes are dropped
    r.audio(Buffer.alloc(10), 0);
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('an RTMP sink too, and its messages never contain the stream key', async () => {
    const p = new RtmpSink({ ffmpegPath: MISSING, url: 'rtmp://127.0.0.1:1/app/SECRET-KEY', videoCodec: 'h264', label: 'test' });
    const exit = new Promise<FfmpegExit>((resolve) => p.once('exit', resolve));
    p.start();
    expect((await exit).message).toBe(`ffmpeg not found at ${MISSING}`);
    expect(p.running).toBe(false);
    const t0 = Date.now();
    await p.stop();
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
