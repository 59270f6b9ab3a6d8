import { measureJoinStall, type JoinStallResult } from '../../bench/join-stall';
import { startTestApp, type TestApp } from '../support/app-harness';

/**
 * Joins must not freeze running rooms. A decoding viewer (in a child process) watches room A; publishers and viewers
 * (in another child process) join room B, then room A; the longest gap between the viewer's frames during those joins
 * is compared with a quiet period of the same length. The machine is small and shared, so the bounds here are loose
 * (a ratio to the quiet baseline plus a margin, and an absolute ceiling); the strict targets (≤ 100 ms for a join in
 * another room, ≤ 150 ms in the same room) are what the bench reports (bench/join-stall.ts).
 */
describe('join stall: joins do not freeze a running room', () => {
  let t: TestApp;
  let r: JoinStallResult;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  }, 30_000);

  it('a join burst in another room and in the same room: the viewer’s longest frame gap stays near the quiet one', async () => {
    r = await measureJoinStall(
      { baseUrl: t.baseUrl, apiKey: t.config.apiKey, apiSecret: t.config.apiSecret, admin: (m, p, b) => t.admin(m, p, b) },
      // a 640x360 mix keeps the encoders' share of the two cores small; the bench uses the 1280x720 room
      { rounds: Number(process.env.JOIN_STALL_ROUNDS ?? 2), room: { width: 640, height: 360, fps: 30, videoBitrateKbps: 800 } },
    );
    console.log(`join stall: ${JSON.stringify(r)}`);
    // Every publisher and every light viewer joins. The light viewers are werift peers without a retry: before werift's
    // handshake got its messages in order (libs/media/src/webrtc/werift-dtls-order.ts), CI saw up to 2 of the 8 per
    // phase stuck in "ICE connected, DTLS connecting".
    for (const p of [r.otherRoom, r.ownRoom]) expect(p.errors).toEqual([]);
    const quiet = r.quiet.medianMs;
    expect(quiet).toBeLessThan(300); // the watcher itself runs smoothly
    // a join in another room runs on another thread: the watched room barely notices
    expect(r.otherRoom.medianMs).toBeLessThanOrEqual(Math.max(4 * quiet, quiet + 500));
    expect(r.otherRoom.maxMs).toBeLessThan(2000);
    for (const fps of r.otherRoom.fps) expect(fps).toBeGreaterThanOrEqual(15);
    // a burst into the watched room itself shares its thread (DTLS handshakes, decoder spawns, a new layout): a gap of
    // several hundred ms remains (README "Limitations"; the bench reports it), but never a freeze
    expect(r.ownRoom.maxMs).toBeLessThan(2000);
    for (const fps of r.ownRoom.fps) expect(fps).toBeGreaterThanOrEqual(8);
  }, 120_000);
});
