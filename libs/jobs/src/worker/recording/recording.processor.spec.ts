import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import type { RecordingJobData } from '../../queues';
import type { Recording } from '../../recording';
import type { RecordingStore } from '../../recording-store';
import { isFragmented, moovBeforeMdat } from '../../../../../test/helpers/container-index';
import { memoryRecord, SilentMix } from '../../../../../test/support/worker-fakes';
import { recordingProcessor } from './recording.processor';

/** A recorder whose ffmpeg binary is missing: a real spawn that fails with ENOENT must end the job, not the process. */
describe('a recording without its ffmpeg binary', () => {
  const MISSING = '/nonexistent/bin/ffmpeg';
  const dir = mkdtempSync(path.join(tmpdir(), 'recorder-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the job ends with the recording failed for that reason', async () => {
    const rec: Recording = { id: 'rec_0000000000000001', room: 'r', name: 'n', format: 'mp4', audioOnly: false, status: 'queued', createdAt: new Date().toISOString(), seq: 1 };
    const store = memoryRecord(rec);
    const mix = new SilentMix();
    const run = recordingProcessor({
      store: store as unknown as RecordingStore,
      ffmpegPath: MISSING,
      ffprobePath: 'ffprobe',
      recordingsDir: dir,
      apiSecret: 'x'.repeat(32),
      serverUrl: () => 'http://127.0.0.1:1',
      localTap: async () => mix,
    });
    await run({ data: { recordingId: rec.id }, updateProgress: async () => undefined } as unknown as Job<RecordingJobData>);
    expect(store.current()).toMatchObject({ status: 'failed', error: `ffmpeg not found at ${MISSING}` });
    expect(mix.closed).toBe(true);
  });
});

/** A job handed over (BullMQ) after its worker died while finishing: finishing is done again, on real media. */
describe('a recording whose worker stopped while finishing it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'refinish-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is finished again: its file rewritten with moov first, a thumbnail, ready without a warning', async () => {
    const id = 'rec_0000000000000002';
    const file = path.join(dir, `${id}.mp4`);
    execFileSync('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=blue:s=160x90:r=15:d=3', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=3',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'libopus',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4', file,
    ]);
    writeFileSync(path.join(dir, `${id}.finishing.mp4`), 'half written by the worker that died');
    const rec: Recording = {
      id, room: 'r', name: 'n', format: 'mp4', audioOnly: false, status: 'finishing', createdAt: new Date().toISOString(), seq: 5,
      parts: [{ index: 1, fileName: `${id}.mp4`, startedAt: new Date().toISOString(), durationSeconds: 3 }], durationSeconds: 3,
    };
    const store = memoryRecord(rec);
    const progress: unknown[] = [];
    const run = recordingProcessor({ store: store as unknown as RecordingStore, ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', recordingsDir: dir, apiSecret: 'x'.repeat(32), serverUrl: () => 'http://127.0.0.1:1' });
    await run({ data: { recordingId: id }, updateProgress: async (p: unknown) => void progress.push(p) } as unknown as Job<RecordingJobData>);
    expect(store.current()).toMatchObject({ status: 'ready', thumbnailUrl: `/v1/recordings/${id}/thumbnail` });
    expect(store.current()).not.toHaveProperty('warning');
    expect(Math.abs(store.current().durationSeconds! - 3)).toBeLessThan(0.2);
    expect(store.current().sizeBytes).toBe(statSync(file).size);
    const bytes = readFileSync(file);
    expect(moovBeforeMdat(bytes) && !isFragmented(bytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`${id}.jpg`, `${id}.mp4`]);
    expect(progress).toContainEqual(expect.objectContaining({ finishingPercent: expect.any(Number) })); // from fluent-ffmpeg's progress events
  });
});

/**
 * A first connection that brings no media (a WHEP session that connected and stays silent, as one whose DTLS handshake
 * stalled used to): the recorder connects again within its reconnect budget instead of failing at once.
 */
describe('a recording whose first connection brings no media', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'silent-first-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('connects again, and ends failed only when that does not work either, saying nothing was recorded', async () => {
    const rec: Recording = { id: 'rec_0000000000000003', room: 'r', name: 'n', format: 'mp4', audioOnly: false, status: 'queued', createdAt: new Date().toISOString(), seq: 1 };
    const store = memoryRecord(rec);
    const first = new SilentMix();
    let calls = 0;
    const run = recordingProcessor({
      store: store as unknown as RecordingStore,
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      recordingsDir: dir,
      apiSecret: 'x'.repeat(32),
      serverUrl: () => 'http://127.0.0.1:1',
      reconnectMs: 1000,
      localTap: async () => {
        calls++;
        if (calls === 1) return first;
        throw new Error('the room is gone');
      },
    });
    await run({ data: { recordingId: rec.id }, updateProgress: async () => undefined } as unknown as Job<RecordingJobData>);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(first.closed).toBe(true);
    expect(store.current().status).toBe('failed');
    expect(store.current().error).toContain('no media arrived from the room within 15 s');
    expect(store.current().error).toContain('nothing was recorded');
  }, 60_000);
});
