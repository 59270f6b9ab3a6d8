import type { Job } from 'bullmq';
import type { Livestream } from '../../livestream';
import type { LivestreamStore } from '../../livestream-store';
import type { LivestreamJobData } from '../../queues';
import { memoryRecord, SilentMix } from '../../../../../test/support/worker-fakes';
import { livestreamProcessor } from './livestream.processor';

/** A livestream whose ffmpeg binary is missing: a real spawn that fails with ENOENT must end the job, not the process. */
describe('a livestream without its ffmpeg binary', () => {
  const MISSING = '/nonexistent/bin/ffmpeg';
  const URL = 'rtmp://127.0.0.1:1/app/SECRET-KEY';

  it('the job ends with the livestream failed for that reason', async () => {
    const now = new Date().toISOString();
    const ls: Livestream = { id: 'ls_0000000000000001', room: 'r', url: URL, status: 'queued', createdAt: now, startedAt: now, failedAttempts: 0, reconnects: 0, seq: 1 };
    const store = memoryRecord(ls);
    const mix = new SilentMix();
    const run = livestreamProcessor({
      store: store as unknown as LivestreamStore,
      ffmpegPath: MISSING,
      apiSecret: 'x'.repeat(32),
      serverUrl: () => 'http://127.0.0.1:1',
      localTap: async () => mix,
      maxAttempts: 1,
      backoffMs: 10,
    });
    await run({ data: { livestreamId: ls.id } } as unknown as Job<LivestreamJobData>);
    expect(store.current()).toMatchObject({ status: 'failed', lastError: `ffmpeg not found at ${MISSING}` });
    expect(mix.closed).toBe(true);
  });
});
