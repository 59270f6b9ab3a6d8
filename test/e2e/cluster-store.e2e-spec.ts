import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { CapacityError, DomainError, type NodeRecord } from '@app/core';
import { ClusterStore, freePort, NodeBus } from '@app/jobs';
import { sleep } from '../support/app-harness';

/** The cluster's Redis side against a real redis-server: leases taken atomically, dead holders replaced, node-to-node calls. */
describe('cluster store and node bus (real Redis)', () => {
  let server: ChildProcess;
  const conns: Redis[] = [];
  let url = '';
  const conn = () => {
    const r = new Redis(url, { maxRetriesPerRequest: null });
    conns.push(r);
    return r;
  };
  const rec = (id: string): NodeRecord => ({ id, url: `http://${id}`, coresLeft: 1, roomsLeft: 10, rooms: 0, load: 0, draining: false, at: Date.now() });

  beforeAll(async () => {
    const port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      // a probe that is closed again either way (left open, it would retry the killed server for ever after the tests)
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      const ok = await probe.connect().then(() => true, () => false);
      probe.disconnect();
      if (ok) break;
      await sleep(100);
    }
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    const gone = server && server.exitCode === null ? new Promise((r) => server.once('exit', r)) : undefined;
    server?.kill('SIGKILL');
    await gone;
  });

  it('one lease per room: of 20 nodes racing for it, one wins and all see the same holder', async () => {
    const store = new ClusterStore(conn());
    for (let i = 0; i < 20; i++) await store.heartbeat(rec(`n${i}`), [], 4000);
    const stores = Array.from({ length: 20 }, () => new ClusterStore(conn()));
    const holders = await Promise.all(stores.map((s, i) => s.takeLease('race', `n${i}`, 4000)));
    expect(new Set(holders).size).toBe(1);
    expect(await store.holder('race')).toBe(holders[0]);
    // the winner's room count went up at once (placements between heartbeats spread)
    expect((await store.node(holders[0]))?.rooms).toBe(1);
  });

  it("a dead node's lease is taken over; a live one's is not; a renewal reports a room another node took", async () => {
    const store = new ClusterStore(conn());
    await store.heartbeat(rec('alive'), [], 4000);
    await store.heartbeat(rec('dying'), [], 300);
    expect(await store.takeLease('r1', 'dying', 4000)).toBe('dying');
    expect(await store.takeLease('r1', 'alive', 4000)).toBe('dying');
    await sleep(400); // dying's record expired; its lease has not
    expect(await store.holder('r1')).toBeUndefined();
    expect(await store.takeLease('r1', 'alive', 4000)).toBe('alive');
    expect(await store.heartbeat(rec('dying'), ['r1'], 4000)).toEqual(['r1']);
    expect(await store.heartbeat(rec('alive'), ['r1'], 4000)).toEqual([]);
    expect((await store.nodes()).map((n) => n.id)).toEqual(expect.arrayContaining(['alive', 'dying']));
    await store.removeNode('alive', ['r1']);
    expect(await store.holder('r1')).toBeUndefined();
  });

  it('rooms are created once and outlive their leases', async () => {
    const store = new ClusterStore(conn());
    const room = { name: 'kept', options: { width: 640 } as never, createdAt: new Date().toISOString() };
    expect(await store.createRoom(room)).toBe(true);
    expect(await store.createRoom(room)).toBe(false);
    expect((await store.rooms()).map((r) => r.name)).toContain('kept');
    expect(await store.deleteRoom('kept')).toBe(true);
    expect(await store.room('kept')).toBeUndefined();
  });

  it('calls another node and gets its answer, its domain errors (same code), or 503 unavailable when nobody listens', async () => {
    const a = new NodeBus(conn(), conn(), 'bus-a');
    const b = new NodeBus(conn(), conn(), 'bus-b');
    await a.start(async () => null);
    await b.start(async (op, args) => {
      if (op === 'echo') return { got: args };
      if (op === 'full') throw new CapacityError('max_rooms', 'full', 7);
      throw new DomainError('not_found', 'nope');
    });
    expect(await a.call('bus-b', 'echo', { x: 1 })).toEqual({ got: { x: 1 } });
    await expect(a.call('bus-b', 'other', {})).rejects.toMatchObject({ code: 'not_found', message: 'nope' });
    await expect(a.call('bus-b', 'full', {})).rejects.toMatchObject({ code: 'capacity_exceeded', limit: 'max_rooms', retryAfterSeconds: 7 });
    await expect(a.call('bus-nobody', 'echo', {}, 1000)).rejects.toMatchObject({ code: 'unavailable' });
    a.close();
    b.close();
  });
});
