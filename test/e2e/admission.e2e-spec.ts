import { dropPeerSilently, gatheredOffer, httpRequest } from '../helpers/webrtc-peer';
import { startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { openEvents } from '../support/events-client';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Issue 12, admission control and idle rooms, against the real app: a request that would overload the node gets a 503
 * with Retry-After and the limit named in `error.limit`, before anything starts; the rooms already running go on.
 */
type ErrorJson = { error?: { code?: string; message?: string; limit?: string } };

describe('admission control: MAX_ROOMS and events clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_ROOMS: '2', MAX_EVENT_CLIENTS_PER_ROOM: '1' });
  });
  afterAll(async () => t?.close());

  it('refuses a third room (POST /v1/rooms and a token for a new room) with 503, Retry-After and the limit; the two rooms go on', async () => {
    expect((await t.admin('POST', '/v1/rooms', { name: 'first' })).status).toBe(201);
    expect((await t.admin('POST', '/v1/rooms/second/tokens', { identity: 'ann' })).status).toBe(201);

    for (const refused of [await t.admin('POST', '/v1/rooms', { name: 'third' }), await t.admin('POST', '/v1/rooms/third/tokens', { identity: 'ann' })]) {
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(refused.json).toEqual({ error: { code: 'capacity_exceeded', limit: 'max_rooms', message: expect.stringContaining('MAX_ROOMS') } });
    }
    // a name already taken is still a 409, and tokens for the existing rooms are still issued
    expect((await t.admin('POST', '/v1/rooms', { name: 'first' })).status).toBe(409);
    expect((await t.admin('POST', '/v1/rooms/first/tokens', { identity: 'bob' })).status).toBe(201);

    const list = await t.admin('GET', '/v1/rooms');
    expect((list.json as { rooms: Array<{ name: string }> }).rooms.map((r) => r.name).sort()).toEqual(['first', 'second']);
    expect((await t.admin('GET', '/v1/rooms/first')).status).toBe(200);
    expect((await t.admin('GET', '/v1/rooms/third')).status).toBe(404);
  });

  it('shows the capacity in /readyz and /metrics', async () => {
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(200); // a full node stays ready for the rooms it has
    expect(ready.json).toMatchObject({
      status: 'ready',
      capacity: { limits: { rooms: 2, eventClientsPerRoom: 1 }, used: { rooms: 2, publishers: 0, subscribers: 0 }, left: { rooms: 0 }, cores: { budget: expect.any(Number), used: 0 } },
    });
    const metrics = await t.admin('GET', '/metrics');
    expect(metrics.text).toMatch(/^mcu_capacity_rooms_left 0$/m);
    expect(metrics.text).toMatch(/^mcu_capacity_cores_left \d/m);
    expect(metrics.text).toMatch(/^mcu_capacity_subscribers_left \d+$/m);
  });

  it('refuses an events client over MAX_EVENT_CLIENTS_PER_ROOM with an error frame and close 1013', async () => {
    const token = await t.token('first', 'watcher');
    const url = `${t.baseUrl}/v1/rooms/first/events?token=${token}`;
    const admitted = await openEvents(url);
    await admitted.next((e) => e.type === 'snapshot');
    const refused = await openEvents(url);
    expect(await refused.closed).toBe(1013);
    expect(refused.all()).toEqual([expect.objectContaining({ type: 'error', code: 'capacity_exceeded', limit: 'max_event_clients_per_room' })]);
    expect(admitted.isOpen()).toBe(true);
    admitted.close();
    await admitted.closed;
    // the slot is free again
    const again = await openEvents(url);
    await again.next((e) => e.type === 'snapshot');
    again.close();
  });

  it('opens a room again once one is deleted', async () => {
    expect((await t.admin('DELETE', '/v1/rooms/second')).status).toBe(204);
    expect((await t.admin('POST', '/v1/rooms', { name: 'third' })).status).toBe(201);
  });
});

describe('admission control: the core budget', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_CAPACITY_CORES: '0.05' });
  });
  afterAll(async () => t?.close());

  it('refuses a WHIP publisher that would exceed NODE_CAPACITY_CORES with 503 before anything starts', async () => {
    const token = await t.token('cpu', 'ann'); // creating a room costs nothing until someone joins
    const { pc, sdp } = await gatheredOffer();
    try {
      const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/cpu/whip`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, sdp);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('30');
      const body = JSON.parse(r.body) as ErrorJson;
      expect(body.error).toMatchObject({ code: 'capacity_exceeded', limit: 'capacity_cores' });
      expect(body.error?.message).toMatch(/NODE_CAPACITY_CORES/);
    } finally {
      await dropPeerSilently(pc);
    }
    const room = await t.admin('GET', '/v1/rooms/cpu');
    expect(room.json).toMatchObject({ numPublishers: 0, participants: [], mixer: { running: false } });
    const ready = await t.request('GET', '/readyz');
    expect(ready.json).toMatchObject({ capacity: { cores: { budget: 0.05, used: 0, left: 0.05 } } });
  });
});

describe('admission control: the room workers\' measured load', () => {
  let t: TestApp;
  let viewer: Subscriber | undefined;
  beforeAll(async () => {
    // one worker, and a threshold any running room is above: its next session is refused by what the worker reports
    t = await startTestApp({ MEDIA_WORKERS: '1', MAX_WORKER_ELU: '0.01' });
  });
  afterAll(async () => {
    await viewer?.close();
    await t?.close();
  });

  it('refuses a session in a room whose worker reports a load above MAX_WORKER_ELU with 503 worker_load', async () => {
    const token = await t.token('busy', 'first');
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/busy/whep`, token }); // admitted: nothing measured runs yet
    await viewer.connected();
    await viewer.waitForFrame(() => true, 15_000); // the room's mixer runs in the worker now
    let last: { status: number; body: string } | undefined;
    let attempt = 0;
    await waitFor(async () => {
      const { pc, sdp } = await gatheredOffer();
      try {
        // a new identity each time: one admitted before the worker's first report would be "replacing its own" after
        last = await httpRequest('POST', `${t.baseUrl}/v1/rooms/busy/whip`, { Authorization: `Bearer ${await t.token('busy', `second-${attempt++}`)}`, 'Content-Type': 'application/sdp' }, sdp);
      } finally {
        await dropPeerSilently(pc);
      }
      return last.status === 503 ? true : undefined;
    }, 15_000, 'a worker_load refusal', 1000);
    expect(last!.status).toBe(503);
    const body = JSON.parse(last!.body) as ErrorJson;
    expect(body.error).toMatchObject({ code: 'capacity_exceeded', limit: 'worker_load' });
    expect(body.error?.message).toMatch(/media worker of room "busy" is overloaded \(event-loop utilisation 0\.\d+/);
    const room = await t.admin('GET', '/v1/rooms/busy');
    expect((room.json as { participants: Array<{ identity: string }> }).participants.map((p) => p.identity)).not.toContain(`second-${attempt - 1}`);
  });
});

describe('admission control: MAX_SUBSCRIBERS_PER_ROOM, and idle rooms', () => {
  let t: TestApp;
  const subs: Subscriber[] = [];
  beforeAll(async () => {
    t = await startTestApp({ MAX_SUBSCRIBERS_PER_ROOM: '1', ROOM_IDLE_SECONDS: '8' });
  });
  afterAll(async () => {
    await Promise.allSettled(subs.map((s) => s.close()));
    await t?.close();
  });

  const subscribe = async (identity: string) => {
    const sub = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/one-viewer/whep`, token: await t.token('one-viewer', identity) });
    subs.push(sub);
    return sub;
  };

  /**
   * A viewer whose peer connected. On this shared machine a werift handshake now and then stays `connecting`; the
   * viewer then simply tries again — a new session of the same identity replaces its own, which admission allows.
   */
  const connectedViewer = async (identity: string): Promise<Subscriber> => {
    for (let attempt = 1; ; attempt++) {
      const sub = await subscribe(identity);
      try {
        await sub.connected();
        return sub;
      } catch (e) {
        if (attempt >= 2) throw e;
        await sub.close();
      }
    }
  };

  it('refuses the second WHEP viewer with 503; the first one stays; a viewer replacing its own session is admitted', async () => {
    await connectedViewer('viewer-1');
    const token = await t.token('one-viewer', 'viewer-2');
    const offer = await gatheredOffer(); // refused before its SDP is even read
    const r = await httpRequest('POST', `${t.baseUrl}/v1/rooms/one-viewer/whep`, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, offer.sdp);
    await dropPeerSilently(offer.pc);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('30');
    expect((JSON.parse(r.body) as ErrorJson).error).toMatchObject({ code: 'capacity_exceeded', limit: 'max_subscribers_per_room', message: expect.stringContaining('MAX_SUBSCRIBERS_PER_ROOM') });
    const room = await t.admin('GET', '/v1/rooms/one-viewer');
    expect((room.json as { participants: Array<{ identity: string }> }).participants.map((p) => p.identity)).toEqual(['viewer-1']);

    await connectedViewer('viewer-1'); // same identity: replaces its session, does not count twice
    expect((await t.admin('GET', '/v1/rooms/one-viewer')).json).toMatchObject({ numSubscribers: 1 });
  });

  it('deletes a room nobody is in after ROOM_IDLE_SECONDS, not one somebody watches', async () => {
    expect((await t.admin('POST', '/v1/rooms', { name: 'nobody' })).status).toBe(201);
    await waitFor(async () => (await t.admin('GET', '/v1/rooms/nobody')).status === 404, 20_000, 'the empty room to be deleted');
    await sleep(1000);
    expect((await t.admin('GET', '/v1/rooms/one-viewer')).status).toBe(200); // watched for longer than 8 s by now
    await Promise.allSettled(subs.map((s) => s.leave()));
    // 8 s after the last one left
    await waitFor(async () => (await t.admin('GET', '/v1/rooms/one-viewer')).status === 404, 35_000, 'the room to be deleted once left', 500);
  }, 60_000);
});
