import { signRoomToken } from '@app/core';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { type HttpResponse, startTestApp, type TestApp } from '../support/app-harness';
import { openEvents } from '../support/events-client';

/**
 * The host's token (issue 16): a room token with the `roomAdmin` grant calls its own room's admin actions — layout
 * and pin, recordings, livestreams, HLS, tokens of that room — and nothing of another room (403, JSON) nor the admin-only
 * routes (401). Invitations: one link for many people, each exchanging it at POST /v1/rooms/{name}/join for a token
 * of their own. Participants say they muted through the events socket.
 */
describe('room admin tokens and invitations', () => {
  let t: TestApp;
  let hostA: string;
  let pub: Publisher | undefined;
  const as = (token: string, method: string, url: string, body?: unknown): Promise<HttpResponse> =>
    t.request(method, url, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const forbidden = (r: HttpResponse) => {
    expect([r.status, (r.json as { error?: { code?: string } })?.error?.code]).toEqual([403, 'forbidden']);
    expect(r.headers.get('content-type')).toContain('application/json');
  };

  beforeAll(async () => {
    t = await startTestApp({ RTMP_ALLOW_PRIVATE: '1' }); // the livestream below goes to a local (unused) port
    for (const name of ['room-a', 'room-b']) expect((await t.admin('POST', '/v1/rooms', { name })).status).toBe(201);
    const r = await t.admin('POST', '/v1/rooms/room-a/tokens', { identity: 'host-a', roomAdmin: true, canPublish: false, ttlSeconds: 600 });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ grants: { roomAdmin: true, canPublish: false, canSubscribe: true } });
    hostA = (r.json as { token: string }).token;
  });

  afterAll(async () => {
    await pub?.close();
    await t?.close();
  });

  it("a room A admin token is refused (403 JSON) on every admin action of room B", async () => {
    const recB = (await t.admin('POST', '/v1/rooms/room-b/recordings', {})).json as { id: string };
    const lsB = (await t.admin('POST', '/v1/rooms/room-b/livestreams', { url: 'rtmp://127.0.0.1:9/live/key' })).json as { id: string };
    for (const [method, url, body] of [
      ['GET', '/v1/rooms/room-b'],
      ['PATCH', '/v1/rooms/room-b', { layout: 'speaker' }],
      ['POST', '/v1/rooms/room-b/tokens', { identity: 'x' }],
      ['POST', '/v1/rooms/room-b/recordings', {}],
      ['GET', '/v1/recordings?room=room-b'],
      ['GET', `/v1/recordings/${recB.id}`],
      ['POST', `/v1/recordings/${recB.id}/stop`],
      ['GET', `/v1/recordings/${recB.id}/file`],
      ['GET', `/v1/recordings/${recB.id}/thumbnail`],
      ['POST', '/v1/rooms/room-b/livestreams', { url: 'rtmp://127.0.0.1:9/live/key' }],
      ['GET', '/v1/livestreams?room=room-b'],
      ['GET', `/v1/livestreams/${lsB.id}`],
      ['DELETE', `/v1/livestreams/${lsB.id}`],
      ['POST', '/v1/rooms/room-b/hls'],
      ['GET', '/v1/rooms/room-b/hls'],
      ['DELETE', '/v1/rooms/room-b/hls'],
    ] as Array<[string, string, unknown?]>) {
      const r = await as(hostA, method, url, body);
      expect([method, url, r.status]).toEqual([method, url, 403]);
      forbidden(r);
    }
    // and B's things are untouched
    expect(((await t.admin('GET', `/v1/livestreams/${lsB.id}`)).json as { status: string }).status).not.toBe('stopped');
    expect((await t.admin('GET', '/v1/rooms/room-b')).json).toMatchObject({ layout: 'grid' });
    await t.admin('DELETE', `/v1/livestreams/${lsB.id}`);
    await t.admin('DELETE', `/v1/recordings/${recB.id}`);
  });

  it('it may act on its own room, and never on the admin-only routes', async () => {
    expect((await as(hostA, 'PATCH', '/v1/rooms/room-a', { layout: 'speaker' })).json).toMatchObject({ layout: 'speaker' });
    expect((await as(hostA, 'GET', '/v1/rooms/room-a')).status).toBe(200);
    expect((await as(hostA, 'POST', '/v1/rooms/room-a/hls')).status).toBe(202);
    expect((await as(hostA, 'GET', '/v1/rooms/room-a/hls')).json).toMatchObject({ running: true });
    expect((await as(hostA, 'DELETE', '/v1/rooms/room-a/hls')).status).toBe(204);
    const ls = await as(hostA, 'POST', '/v1/rooms/room-a/livestreams', { url: 'rtmp://127.0.0.1:9/live/key' });
    expect(ls.status).toBe(201);
    const lsId = (ls.json as { id: string }).id;
    expect((await as(hostA, 'GET', '/v1/livestreams')).json).toMatchObject({ items: [expect.objectContaining({ id: lsId, room: 'room-a' })] });
    expect((await as(hostA, 'DELETE', `/v1/livestreams/${lsId}`)).json).toMatchObject({ status: 'stopped' });
    const rec = await as(hostA, 'POST', '/v1/rooms/room-a/recordings', {});
    expect(rec.status).toBe(201);
    const recId = (rec.json as { id: string }).id;
    const list = (await as(hostA, 'GET', '/v1/recordings')).json as { items: Array<{ room: string }> };
    expect(list.items.length).toBeGreaterThan(0);
    expect(list.items.every((r) => r.room === 'room-a')).toBe(true); // its own room's only, without asking
    expect((await as(hostA, 'GET', `/v1/recordings/${recId}`)).status).toBe(200);
    // ?token= on GET (download links and thumbnails cannot send a header), never on anything else
    expect((await t.request('GET', `/v1/recordings/${recId}?token=${hostA}`)).status).toBe(200);
    expect((await t.request('POST', `/v1/recordings/${recId}/stop?token=${hostA}`)).status).toBe(401);
    expect((await as(hostA, 'POST', `/v1/recordings/${recId}/stop`)).status).toBe(202);
    // deleting recordings and rooms, creating and listing rooms, the nodes: admin only
    for (const [method, url] of [
      ['DELETE', `/v1/recordings/${recId}`],
      ['DELETE', '/v1/rooms/room-a'],
      ['POST', '/v1/rooms'],
      ['GET', '/v1/rooms'],
      ['GET', '/v1/nodes'],
    ]) {
      expect([method, url, (await as(hostA, method, url, method === 'POST' ? { name: 'room-c' } : undefined)).status]).toEqual([method, url, 401]);
    }
    // a participant's token of the same room is not a room admin
    forbidden(await as(await t.token('room-a', 'alice'), 'PATCH', '/v1/rooms/room-a', { layout: 'grid' }));
    // a room admin never makes another room admin, and what it issues does not outlive it
    forbidden(await as(hostA, 'POST', '/v1/rooms/room-a/tokens', { identity: 'co-host', roomAdmin: true }));
    const issued = await as(hostA, 'POST', '/v1/rooms/room-a/tokens', { identity: 'bob', ttlSeconds: 7 * 24 * 3600 });
    expect(issued.status).toBe(201);
    expect(Date.parse((issued.json as { expiresAt: string }).expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    // the dev endpoint hands out participant tokens only
    expect((await t.request('POST', '/v1/dev/tokens', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: 'room-a', identity: 'x', roomAdmin: true }) })).status).toBe(403);
  });

  it('an invitation is one link for many people, each with a token of their own', async () => {
    const inv = await as(hostA, 'POST', '/v1/rooms/room-a/tokens', { identity: 'invite', invite: true, canPublish: true });
    expect(inv.json).toMatchObject({ grants: { canPublish: false, canSubscribe: false, invite: { canPublish: true, canSubscribe: true } } });
    const invite = (inv.json as { token: string }).token;
    const a = await as(invite, 'POST', '/v1/rooms/room-a/join', { displayName: 'Zoë M' });
    const b = await as(invite, 'POST', '/v1/rooms/room-a/join', { displayName: 'Zoë M' });
    expect(a.status).toBe(201);
    expect(a.json).toMatchObject({ room: 'room-a', identity: expect.stringMatching(/^zoe-m-[0-9a-f]{6}$/), grants: { canPublish: true, canSubscribe: true } });
    expect((a.json as { identity: string }).identity).not.toBe((b.json as { identity: string }).identity);
    // the invitation itself opens no session, and is no room admin
    expect((await t.request('POST', `/v1/rooms/room-a/whep?token=${invite}`, { headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' })).status).toBe(403);
    forbidden(await as(invite, 'PATCH', '/v1/rooms/room-a', { layout: 'grid' }));
    // another room's join, a plain token, no name, an expired invitation
    forbidden(await as(invite, 'POST', '/v1/rooms/room-b/join', { displayName: 'Zoë' }));
    forbidden(await as(await t.token('room-a', 'carol'), 'POST', '/v1/rooms/room-a/join', { displayName: 'Carol' }));
    expect((await as(invite, 'POST', '/v1/rooms/room-a/join', {})).status).toBe(400);
    const old = signRoomToken({ room: 'room-a', identity: 'invite', canPublish: true, canSubscribe: true, invite: { canPublish: true, canSubscribe: true } }, t.config.tokenSecret, { ttlSeconds: 60, nowSeconds: Date.now() / 1000 - 3600 }).token;
    const expired = await as(old, 'POST', '/v1/rooms/room-a/join', { displayName: 'Late' });
    expect([expired.status, (expired.json as { error: { code: string } }).error.code]).toEqual([401, 'token_expired']);
  });

  it('a publisher says it muted through the events socket; everyone hears trackMuted, the views show it', async () => {
    const token = await t.token('room-a', 'pub');
    pub = await startPublisher({ whipUrl: `${t.baseUrl}/v1/rooms/room-a/whip`, token, color: [255, 0, 0], width: 160, height: 90, fps: 10 });
    await pub.connected();
    const watcher = await openEvents(`${t.baseUrl}/v1/rooms/room-a/events?token=${hostA}`);
    const me = await openEvents(`${t.baseUrl}/v1/rooms/room-a/events?token=${token}`);
    const snap = await watcher.next((e) => e.type === 'snapshot');
    expect(snap).toMatchObject({ width: 1280, height: 720, participants: [expect.objectContaining({ identity: 'pub', audioMuted: false, videoMuted: false })] });
    await me.next((e) => e.type === 'snapshot');
    me.sendRaw(JSON.stringify({ type: 'mute', audio: true }));
    expect(await watcher.next((e) => e.type === 'trackMuted')).toMatchObject({ participant: { identity: 'pub' }, track: { kind: 'audio', source: 'microphone' } });
    const view = (await t.admin('GET', '/v1/rooms/room-a')).json as { participants: Array<{ identity: string; publisher: object }> };
    expect(view.participants.find((p) => p.identity === 'pub')?.publisher).toMatchObject({ audioMuted: true, videoMuted: false });
    me.sendRaw(JSON.stringify({ type: 'mute', audio: false, video: true }));
    expect(await watcher.next((e) => e.type === 'trackUnmuted')).toMatchObject({ track: { kind: 'audio' } });
    expect(await watcher.next((e) => e.type === 'trackMuted')).toMatchObject({ track: { kind: 'video', source: 'camera' } });
    // a token that does not publish has nothing to mute
    watcher.sendRaw(JSON.stringify({ type: 'mute', audio: true }));
    expect(await watcher.next((e) => e.type === 'error')).toMatchObject({ code: 'forbidden' });
    watcher.close();
    me.close();
  });
});
