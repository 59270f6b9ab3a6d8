import { signRoomToken } from '@app/core';
import { startTestApp, type TestApp } from '../support/app-harness';

/** REST contract and error handling, no media: statuses and the JSON error shape. */
describe('HTTP API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const errorCode = (r: { json: unknown }) => (r.json as { error?: { code?: string; message?: string } }).error?.code;

  it('serves liveness and readiness', async () => {
    expect((await t.request('GET', '/healthz')).json).toEqual({ status: 'ok' });
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', checks: { ffmpeg: { ok: true } } });
  });

  it('creates, lists, shows and deletes rooms', async () => {
    const created = await t.admin('POST', '/v1/rooms', { name: 'api-room', width: 640, height: 360, fps: 15 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'api-room', layout: 'grid', width: 640, height: 360, fps: 15, videoBitrateKbps: 1500, participants: [] });
    expect((await t.admin('POST', '/v1/rooms', { name: 'api-room' })).status).toBe(409);
    const list = await t.admin('GET', '/v1/rooms');
    expect((list.json as { rooms: Array<{ name: string }> }).rooms.map((r) => r.name)).toContain('api-room');
    const one = await t.admin('GET', '/v1/rooms/api-room');
    expect(one.json).toMatchObject({ name: 'api-room', participants: [], numPublishers: 0 });
    expect((await t.admin('DELETE', '/v1/rooms/api-room')).status).toBe(204);
    const gone = await t.admin('GET', '/v1/rooms/api-room');
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: { code: 'not_found', message: expect.stringContaining('api-room') } });
  });

  describe('renditions (the ladder)', () => {
    const message = (r: { json: unknown }) => (r.json as { error?: { message?: string } }).error?.message ?? '';

    it('shows the default ladder of a room created without the option', async () => {
      const created = await t.admin('POST', '/v1/rooms', { name: 'ladder-default' });
      expect(created.status).toBe(201);
      const ladder = [
        { name: 'high', width: 1280, height: 720, bitrateKbps: 1500, fps: 30 },
        { name: 'medium', width: 640, height: 360, bitrateKbps: 500, fps: 30 },
        { name: 'low', width: 320, height: 180, bitrateKbps: 150, fps: 20 },
      ];
      expect((created.json as { renditions: unknown }).renditions).toEqual(ladder);
      expect((await t.admin('GET', '/v1/rooms/ladder-default')).json).toMatchObject({ renditions: ladder });
      await t.admin('DELETE', '/v1/rooms/ladder-default');
    });

    it('shows a custom ladder (high first, by bitrate) and [] as high only', async () => {
      const renditions = [
        { name: 'tiny', width: 256, height: 144, bitrateKbps: 120, fps: 15 },
        { name: 'sd', width: 854, height: 480, bitrateKbps: 900 },
      ];
      expect((await t.admin('POST', '/v1/rooms', { name: 'ladder-custom', fps: 25, renditions })).status).toBe(201);
      const got = await t.admin('GET', '/v1/rooms/ladder-custom');
      expect((got.json as { renditions: unknown }).renditions).toEqual([
        { name: 'high', width: 1280, height: 720, bitrateKbps: 1500, fps: 25 },
        { name: 'sd', width: 854, height: 480, bitrateKbps: 900, fps: 25 },
        { name: 'tiny', width: 256, height: 144, bitrateKbps: 120, fps: 15 },
      ]);
      const patched = await t.admin('PATCH', '/v1/rooms/ladder-custom', { renditions: [] });
      expect(patched.status).toBe(400);
      expect(message(patched)).toContain('renditions can only be set when the room is created');
      await t.admin('DELETE', '/v1/rooms/ladder-custom');

      expect((await t.admin('POST', '/v1/rooms', { name: 'ladder-none', renditions: [] })).status).toBe(201);
      expect((await t.admin('GET', '/v1/rooms/ladder-none')).json).toMatchObject({ renditions: [{ name: 'high' }] });
      expect(((await t.admin('GET', '/v1/rooms/ladder-none')).json as { renditions: unknown[] }).renditions).toHaveLength(1);
      await t.admin('DELETE', '/v1/rooms/ladder-none');
    });

    it.each([
      ['0x0', [{ name: 'zero', width: 0, height: 0, bitrateKbps: 100 }], 'renditions[0] ("zero"): width'],
      ['100 kbps at 4K', [{ name: 'uhd', width: 3840, height: 2160, bitrateKbps: 100 }], 'renditions[0] ("uhd"): width'],
      ['20 rungs', Array.from({ length: 20 }, (_, i) => ({ name: `r${i}`, width: 320, height: 180, bitrateKbps: 150 })), 'at most 3'],
      ['not an array', { low: 1 }, 'renditions must be an array'],
    ])('refuses %s with 400 and a message naming the problem', async (_what, renditions, expected) => {
      const r = await t.admin('POST', '/v1/rooms', { name: 'ladder-bad', renditions });
      expect(r.status).toBe(400);
      expect(errorCode(r)).toBe('validation_failed');
      expect(message(r)).toContain(expected);
      expect((await t.admin('GET', '/v1/rooms/ladder-bad')).status).toBe(404);
    });

    it('refuses 100 kbps at 1080p in a 4K room as too few bits per pixel', async () => {
      const r = await t.admin('POST', '/v1/rooms', { name: 'ladder-4k', width: 3840, height: 2160, videoBitrateKbps: 8000, renditions: [{ name: 'hd', width: 1920, height: 1080, bitrateKbps: 100 }] });
      expect(r.status).toBe(400);
      expect(message(r)).toContain('("hd"): bitrateKbps 100 is too low for 1920x1080 at 30 fps');
    });
  });

  it('issues tokens, creating the room with defaults', async () => {
    const r = await t.admin('POST', '/v1/rooms/tok-room/tokens', { identity: 'alice', displayName: 'Alice', canSubscribe: false, ttlSeconds: 60 });
    expect(r.status).toBe(201);
    const body = r.json as { token: string; room: string; identity: string; expiresAt: string };
    expect(body).toMatchObject({ room: 'tok-room', identity: 'alice' });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'alice', room: 'tok-room', name: 'Alice', grants: { canPublish: true, canSubscribe: false } });
    expect((await t.admin('GET', '/v1/rooms/tok-room')).json).toMatchObject({ width: 1280, height: 720, fps: 30 });
  });

  it('refuses admin calls without valid credentials', async () => {
    const none = await t.request('GET', '/v1/rooms');
    expect(none.status).toBe(401);
    expect(errorCode(none)).toBe('unauthorized');
    const wrong = await t.request('GET', '/v1/rooms', { headers: { authorization: `Basic ${Buffer.from('devkey:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });

  it('validates bodies with 400 and a reason', async () => {
    for (const body of ['{bad json', JSON.stringify({ name: '../../etc' }), JSON.stringify({ name: 'x', fps: 1000 }), JSON.stringify([1])]) {
      const r = await t.admin('POST', '/v1/rooms', body);
      expect(r.status).toBe(400);
      expect((r.json as { error: { message: string } }).error.message.length).toBeGreaterThan(5);
    }
    const tok = await t.admin('POST', '/v1/rooms/r/tokens', { identity: 'has space' });
    expect(tok.status).toBe(400);
    const big = await t.admin('POST', '/v1/rooms', JSON.stringify({ name: 'x', pad: 'y'.repeat(20_000) }));
    expect(big.status).toBe(413);
    expect(errorCode(big)).toBe('payload_too_large');
  });

  describe('WHIP/WHEP request errors', () => {
    let token: string;
    beforeAll(async () => {
      await t.admin('POST', '/v1/rooms', { name: 'err-room' });
      token = await t.token('err-room', 'bob');
    });
    const whip = (room: string, headers: Record<string, string>, body = 'v=0\r\n') => t.request('POST', `/v1/rooms/${room}/whip`, { headers, body });

    it('401 without, with a garbage and with an expired token', async () => {
      expect((await whip('err-room', { 'content-type': 'application/sdp' })).status).toBe(401);
      expect((await whip('err-room', { 'content-type': 'application/sdp', authorization: 'Bearer garbage' })).status).toBe(401);
      const expired = signRoomToken({ room: 'err-room', identity: 'bob', canPublish: true, canSubscribe: true }, t.config.tokenSecret, {
        ttlSeconds: 10,
        nowSeconds: Date.now() / 1000 - 60,
      }).token;
      const r = await whip('err-room', { 'content-type': 'application/sdp', authorization: `Bearer ${expired}` });
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('token_expired');
      const forged = signRoomToken({ room: 'err-room', identity: 'bob', canPublish: true, canSubscribe: true }, 'not-the-secret', { ttlSeconds: 60 }).token;
      expect((await whip('err-room', { 'content-type': 'application/sdp', authorization: `Bearer ${forged}` })).status).toBe(401);
    });

    it('403 for another room or a missing grant', async () => {
      const other = await t.token('other-room', 'bob');
      const r = await whip('err-room', { 'content-type': 'application/sdp', authorization: `Bearer ${other}` });
      expect(r.status).toBe(403);
      const viewer = await t.token('err-room', 'viewer', { canPublish: false });
      expect((await whip('err-room', { 'content-type': 'application/sdp', authorization: `Bearer ${viewer}` })).status).toBe(403);
      const mute = await t.token('err-room', 'mute', { canSubscribe: false });
      const whep = await t.request('POST', '/v1/rooms/err-room/whep', { headers: { 'content-type': 'application/sdp', authorization: `Bearer ${mute}` }, body: 'v=0\r\n' });
      expect(whep.status).toBe(403);
    });

    it('415 for a wrong content type, 400 for a body that is not SDP, 413 for an oversized one', async () => {
      const auth = { authorization: `Bearer ${token}` };
      const r415 = await whip('err-room', { ...auth, 'content-type': 'application/json' }, '{}');
      expect(r415.status).toBe(415);
      expect(errorCode(r415)).toBe('unsupported_media_type');
      const r400 = await whip('err-room', { ...auth, 'content-type': 'application/sdp' }, 'hello');
      expect(r400.status).toBe(400);
      expect(errorCode(r400)).toBe('invalid_sdp');
      const empty = await whip('err-room', { ...auth, 'content-type': 'application/sdp' }, '');
      expect(empty.status).toBe(400);
      const r413 = await whip('err-room', { ...auth, 'content-type': 'application/sdp' }, `v=0\r\n${'a=x\r\n'.repeat(20_000)}`);
      expect(r413.status).toBe(413);
    });

    it('404 for an unknown room or session, 405 for PATCH', async () => {
      const ghost = await t.token('ghost-room', 'bob');
      await t.admin('DELETE', '/v1/rooms/ghost-room');
      expect((await whip('ghost-room', { 'content-type': 'application/sdp', authorization: `Bearer ${ghost}` })).status).toBe(404);
      const del = await t.request('DELETE', '/v1/rooms/err-room/whip/00000000-0000-4000-8000-000000000000', { headers: { authorization: `Bearer ${token}` } });
      expect(del.status).toBe(404);
      const traversal = await t.request('DELETE', '/v1/rooms/err-room/whip/..%2F..%2Fetc', { headers: { authorization: `Bearer ${token}` } });
      expect(traversal.status).toBe(404);
      const patch = await t.request('PATCH', '/v1/rooms/err-room/whip/00000000-0000-4000-8000-000000000000', { headers: { authorization: `Bearer ${token}` } });
      expect(patch.status).toBe(405);
      expect((await t.admin('GET', '/v1/rooms/no%20such')).status).toBe(404);
    });
  });
});
