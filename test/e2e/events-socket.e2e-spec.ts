import { signRoomToken } from '@app/core';
import { WebSocket } from 'ws';
import { type EventsClient, openEvents } from '../support/events-client';
import { sleep, startTestApp, type TestApp, within } from '../support/app-harness';

/**
 * Issue 14, the events socket: nothing about a room before authentication (the same refusal for an unknown room as for
 * a bad token; no pong), a server heartbeat that ends half-open sockets, and a cap of sockets per identity.
 */
const ROOM = 'sock-room';

describe('events socket hardening', () => {
  let t: TestApp;
  const open: EventsClient[] = [];
  const url = (room: string, token?: string) => `${t.baseUrl}/v1/rooms/${room}/events${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const connect = async (room: string, token?: string) => {
    const c = await openEvents(url(room, token));
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp({ EVENTS_HEARTBEAT_SECONDS: '1', MAX_EVENT_CLIENTS_PER_IDENTITY: '5' });
    expect((await t.admin('POST', '/v1/rooms', { name: ROOM })).status).toBe(201);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await t?.close();
  });

  it('answers a bad token the same way for an unknown room and for a real one', async () => {
    const real = await connect(ROOM, 'not-a-token');
    const unknown = await connect('no-such-room', 'not-a-token');
    expect(await real.closed).toBe(4401);
    expect(await unknown.closed).toBe(4401);
    expect(unknown.all()).toEqual(real.all());
    expect(real.all()).toEqual([{ type: 'error', code: 'unauthorized', message: expect.any(String) }]);
  });

  it('says nothing before authentication: no pong, no 4404 for an unknown room; both end 4401 at the auth deadline', async () => {
    const real = await connect(ROOM);
    const unknown = await connect('no-such-room');
    for (const c of [real, unknown]) c.sendRaw('{"type":"ping","id":7}');
    await sleep(1000);
    for (const c of [real, unknown]) {
      expect(c.isOpen()).toBe(true);
      expect(c.all().some((e) => e.type === 'pong')).toBe(false);
    }
    expect(unknown.all()).toEqual(real.all());
    expect(await real.closed).toBe(4401);
    expect(await unknown.closed).toBe(4401);
    expect(unknown.all()).toEqual(real.all());
  });

  it('a valid token for another room is a 4403 whether or not the path names a room; 4404 only to a token of that room', async () => {
    const token = await t.token(ROOM, 'someone');
    const elsewhere = await connect('no-such-room', token);
    expect(await elsewhere.closed).toBe(4403);
    const ghost = signRoomToken({ room: 'ghost-room', identity: 'g', canPublish: false, canSubscribe: true }, t.config.tokenSecret, { ttlSeconds: 60 }).token;
    const gone = await connect('ghost-room', ghost);
    expect(await gone.closed).toBe(4404);
    // once authenticated, ping is answered
    const ok = await connect(ROOM, token);
    await ok.next((e) => e.type === 'snapshot');
    ok.sendRaw('{"type":"ping","id":8}');
    expect(await ok.next((e) => e.type === 'pong')).toEqual({ type: 'pong', id: 8 });
    ok.close();
  });

  it('terminates a socket that stops answering the server heartbeat; a live one stays', async () => {
    const healthy = await connect(ROOM, await t.token(ROOM, 'healthy'));
    await healthy.next((e) => e.type === 'snapshot');
    const stuck = new WebSocket(url(ROOM, await t.token(ROOM, 'stuck')));
    const snap = new Promise<void>((resolve) => stuck.once('message', () => resolve()));
    const stuckClosed = new Promise<number>((resolve) => stuck.once('close', (code) => resolve(code)));
    stuck.on('error', () => undefined);
    await snap;
    // a half-open socket: nothing is read any more, so no pong goes back (heartbeat every 1 s, two missed: terminated)
    const socket = (stuck as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await sleep(4500);
    socket.resume(); // what the server did meanwhile reaches the client now: its end of the TCP connection
    expect(await within(stuckClosed, 2000, 'still open')).toBe(1006);
    expect(healthy.isOpen()).toBe(true); // it answered every heartbeat
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { layout: 'speaker' })).status).toBe(200);
    await healthy.next((e) => e.type === 'layoutChanged' && e.layout === 'speaker');
    stuck.terminate();
  });

  it('caps the sockets of one identity (5): the 6th gets an error frame and close 4429; others are unaffected', async () => {
    const five = await Promise.all(Array.from({ length: 5 }, async () => connect(ROOM, await t.token(ROOM, 'tabs'))));
    await Promise.all(five.map((c) => c.next((e) => e.type === 'snapshot')));
    const sixth = await connect(ROOM, await t.token(ROOM, 'tabs'));
    expect(await sixth.closed).toBe(4429);
    expect(sixth.all()).toEqual([{ type: 'error', code: 'too_many_connections', limit: 'max_event_clients_per_identity', message: expect.stringContaining('MAX_EVENT_CLIENTS_PER_IDENTITY') }]);
    expect(five.every((c) => c.isOpen())).toBe(true);
    const other = await connect(ROOM, await t.token(ROOM, 'someone-else'));
    await other.next((e) => e.type === 'snapshot');
    five[0].close();
    await five[0].closed;
    const again = await connect(ROOM, await t.token(ROOM, 'tabs'));
    await again.next((e) => e.type === 'snapshot');
  });
});
