import { RecordingStore } from './recording-store';
import { OwnershipLostError } from './status-record-store';
import { startTestRedis, type TestRedis } from './testing/redis-server';

/** The stores' compare-and-set against a real redis-server, with every job sharing ONE connection (as the workers do). */
describe('status record store: concurrent updates on one shared connection (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(() => redis?.stop());

  it('no update is lost: a final status and a stop request survive 100 concurrent heartbeats (4 stores, one connection)', async () => {
    // several stores on one connection, as the server's API, sweep and an embedded worker's jobs can be
    const shared = redis.connect();
    const stores = Array.from({ length: 4 }, () => new RecordingStore(shared));
    const store = stores[0];
    for (let round = 0; round < 5; round++) {
      const rec = await store.create({ room: `cas${round}`, format: 'mp4', audioOnly: false });
      await store.update(rec.id, { status: 'starting' });
      await store.update(rec.id, { status: 'active' });
      const beats = Array.from({ length: 100 }, (_, i) => stores[i % 4].update(rec.id, { heartbeatAt: i }));
      const stop = stores[1].update(rec.id, { stopRequested: 'by the test' });
      const fail = stores[2].update(rec.id, { status: 'failed', error: 'failed by the test' });
      await Promise.all([...beats, stop, fail]);
      const after = await store.get(rec.id);
      expect(after.status).toBe('failed');
      expect(after.error).toBe('failed by the test');
      expect(after.stopRequested).toBe('by the test');
      expect(after.seq).toBe(4);
    }
  });

  it('a final status is never overwritten by a racing transition (two stores, one connection)', async () => {
    const shared = redis.connect();
    const [store, other] = [new RecordingStore(shared), new RecordingStore(shared)];
    for (let round = 0; round < 5; round++) {
      const rec = await store.create({ room: `race${round}`, format: 'mp4', audioOnly: false });
      await store.update(rec.id, { status: 'starting' });
      const results = await Promise.allSettled([store.update(rec.id, { status: 'active' }), other.update(rec.id, { status: 'failed', error: 'x' }), other.update(rec.id, { heartbeatAt: 1 })]);
      const after = await store.get(rec.id);
      // active → failed is allowed, failed → active is not: the final record is failed whichever came first, never active
      expect(after.status).toBe('failed');
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
      // the room's lock was released by the final transition: a new recording can start
      await expect(store.create({ room: `race${round}`, format: 'mp4', audioOnly: false })).resolves.toBeDefined();
    }
  });
});

describe('status record store: corrupt records (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(() => redis?.stop());

  it('a stored record that does not validate is logged and ignored: never returned, not swept', async () => {
    const warnings: string[] = [];
    const conn = redis.connect();
    const store = new RecordingStore(conn, undefined, { warn: (m) => warnings.push(m) });
    const rec = await store.create({ room: 'corrupt', format: 'mp4', audioOnly: false });
    // someone with access to Redis rewrites the record with a format that is a path
    await conn.set(`mcu:rec:${rec.id}`, JSON.stringify({ ...rec, format: '../../../tmp/owned' }));
    expect(await store.find(rec.id)).toBeUndefined();
    await expect(store.get(rec.id)).rejects.toThrow(/not found/);
    expect((await store.unfinished()).map((r) => r.id)).not.toContain(rec.id);
    expect((await store.list({ limit: 10 })).items.map((r) => r.id)).not.toContain(rec.id);
    expect(warnings.join('\n')).toMatch(new RegExp(`${rec.id}.*format`));
    await conn.set(`mcu:rec:${rec.id}`, '{not json');
    expect(await store.find(rec.id)).toBeUndefined();
  });
});

describe('status record store: writes fenced by an owner token (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(() => redis?.stop());

  it("a run's write fails once the record names another run or is final, and changes nothing", async () => {
    const store = new RecordingStore(redis.connect());
    const rec = await store.create({ room: 'fence', format: 'mp4', audioOnly: false });
    await store.update(rec.id, { status: 'starting', runId: 'run-a' });
    await expect(store.update(rec.id, { heartbeatAt: 1 }, { owner: 'run-a' })).resolves.toMatchObject({ heartbeatAt: 1 });
    await store.update(rec.id, { runId: 'run-b' }); // taken over
    await expect(store.update(rec.id, { heartbeatAt: 2 }, { owner: 'run-a' })).rejects.toThrow(OwnershipLostError);
    await store.update(rec.id, { status: 'failed', error: 'swept' });
    await expect(store.update(rec.id, { heartbeatAt: 3 }, { owner: 'run-b' })).rejects.toThrow(/already failed/);
    expect(await store.get(rec.id)).toMatchObject({ status: 'failed', error: 'swept', heartbeatAt: 1, runId: 'run-b' });
  });
});
