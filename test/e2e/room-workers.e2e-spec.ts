import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type ColorName, insetRect, meanColor, nearestNamedColor } from '../helpers/media-probe';
import { epochNow, type PeerProcess, startPeerProcess } from '../helpers/peer-process';
import type { Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { openEvents, type EventsClient } from '../support/events-client';
import { publishTiles } from '../support/red-green-room';
import { sleep, startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Rooms' media runs in room worker threads: two rooms in two workers; an uncaught error in one room's worker takes
 * that room's sessions down alone (the other room's viewer keeps its frame rate), and the room is usable again at once.
 */
const A = 'wk-a';
const B = 'wk-b';

/** The colour at the centre of the left half / right half of a 2-tile grid (or the centre of a 1-tile one). */
function colours(f: DecodedFrame, n: 1 | 2): ColorName[] {
  const rects = n === 1 ? [{ x: 0, y: 0, w: f.width, h: f.height }] : [{ x: 0, y: 0, w: f.width / 2, h: f.height }, { x: f.width / 2, y: 0, w: f.width / 2, h: f.height }];
  return rects.map((r) => nearestNamedColor(meanColor(f, insetRect(r, 0.35))));
}

describe('room worker threads', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  const viewers: Subscriber[] = [];
  let events: EventsClient | undefined;
  let peers: PeerProcess | undefined;

  beforeAll(async () => {
    t = await startTestApp({ MEDIA_WORKERS: '2' });
  }, 60_000);

  afterAll(async () => {
    events?.close();
    await peers?.close();
    await Promise.allSettled([...pubs.map((p) => p.close()), ...viewers.map((v) => v.close())]);
    await t?.close();
  });

  async function viewer(room: string, identity: string): Promise<Subscriber> {
    const v = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${room}/whep`, token: await t.token(room, identity) });
    viewers.push(v);
    await v.connected();
    return v;
  }

  it('places two rooms in two workers and mixes each there', async () => {
    await t.admin('POST', '/v1/rooms', { name: A, width: 640, height: 360 });
    await t.admin('POST', '/v1/rooms', { name: B, width: 640, height: 360 });
    expect(t.rooms.get(A).workerIndex).not.toBe(t.rooms.get(B).workerIndex);
    pubs.push(...(await publishTiles(t, A, [{ identity: 'a1', color: 'red', tone: 440 }, { identity: 'a2', color: 'green', tone: 660 }])));
    pubs.push(...(await publishTiles(t, B, [{ identity: 'b1', color: 'blue', tone: 550 }, { identity: 'b2', color: 'yellow', tone: 770 }])));
    const va = await viewer(A, 'watch-a');
    const vb = await viewer(B, 'watch-b');
    await va.waitForFrame((f) => colours(f, 2).join() === 'red,green', 15_000);
    await vb.waitForFrame((f) => colours(f, 2).join() === 'blue,yellow', 15_000);
    const workers = t.rooms.workers();
    expect(workers).toHaveLength(2);
    expect(workers.every((w) => w.rooms.length === 1)).toBe(true);
    // the room's sessions are listed on the main thread as soon as the 201 came back
    const room = (await t.admin('GET', `/v1/rooms/${A}`)).json as { participants: Array<{ identity: string }> };
    expect(room.participants.map((p) => p.identity).sort()).toEqual(['a1', 'a2', 'watch-a']);
  }, 90_000);

  it("a crash of one room's worker leaves the other room untouched, and the crashed room is joinable again at once", async () => {
    events = await openEvents(`${t.baseUrl}/v1/rooms/${A}/events?token=${encodeURIComponent(await t.token(A, 'observer', { canPublish: false }))}`);
    await sleep(500);
    const vb = viewers[1];
    // room B's frame rate is read by a watcher in a process of its own: this test's process also runs the server's
    // main thread and the rejoining peers, and a stall of its own would read as a stall of room B
    peers = await startPeerProcess({ baseUrl: t.baseUrl, apiKey: t.config.apiKey, apiSecret: t.config.apiSecret, name: 'room-b-watcher' });
    await peers.watch('b', B, 'watch-b-apart');
    await sleep(2500);
    const p = t.rooms.get(A).mixerPids()!;
    const oldPids = [...Object.values(p.encoders), ...Object.values(p.decoders)].filter((x): x is number => typeof x === 'number');
    expect(oldPids.length).toBeGreaterThanOrEqual(3); // high's encoder and two decoders
    const baseline = await peers.frames('b', epochNow() - 2500, epochNow());
    const crashAt = performance.now();
    const crashEpoch = epochNow();
    t.rooms.injectWorkerFault(A);

    // room A's sessions end with a clear reason
    const left = await events.next((e) => e.type === 'participantLeft' && e.participant?.identity === 'a1', 5_000);
    expect(left.reason).toBe('media_worker_failed');

    // room A is usable again: a new publisher and viewer join and see the new tile
    const [again] = await publishTiles(t, A, [{ identity: 'a3', color: 'magenta', tone: 880 }]);
    pubs.push(again);
    const rejoinedMs = performance.now() - crashAt;
    const va2 = await viewer(A, 'watch-a2');
    await va2.waitForFrame((f) => colours(f, 1).join() === 'magenta', 15_000);

    // meanwhile room B's viewer kept its frame rate and picture
    await sleep(Math.max(0, 3000 - (performance.now() - crashAt)));
    const q = await peers.frames('b', crashEpoch, epochNow());
    console.log(JSON.stringify({ baseline: { fps: baseline.fps, gap: baseline.longestGapMs }, after: { fps: q.fps, gap: q.longestGapMs, top: q.topGapsMs }, rejoinedMs }));
    // close to the frames of before the crash, and no freeze: on these 2 cores the new worker's start and the rejoin
    // take their share for a moment (measured 25.5-27 of 30 fps over the crash and rejoin, gaps up to ~270 ms)
    expect(q.fps).toBeGreaterThanOrEqual(Math.min(22.5, baseline.fps * 0.75));
    expect(q.longestGapMs).toBeLessThan(500);
    expect(colours(vb.latestFrame()!, 2)).toEqual(['blue', 'yellow']);
    // "at once": within a handshake or two, not after a restart or a timeout (a generous bound: the 2 cores are shared;
    // it takes ~0.9–2 s here)
    expect(rejoinedMs).toBeLessThan(6000);

    // the old sessions are gone from the room; no ffmpeg of the dead worker is left over
    await waitFor(async () => {
      const r = (await t.admin('GET', `/v1/rooms/${A}`)).json as { participants: Array<{ identity: string }> };
      return r.participants.every((p) => !['a1', 'a2', 'watch-a'].includes(p.identity));
    }, 5_000, 'the dead sessions to be gone');
    expect(t.rooms.workers().every((w) => w.rooms.length === 1)).toBe(true);
    // running (a killed child of a dead thread stays a zombie until the process ends: nobody can wait() for it)
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    await waitFor(() => oldPids.every((pid) => !alive(pid)), 3_000, "the dead worker's ffmpeg children to be gone");
  }, 90_000);
});
