/**
 * Join stall: does a join freeze rooms that are already running? A decoding viewer watches room A (four publishers);
 * we take the longest gap between its decoded frames (a) in a quiet period, (b) while publishers and viewers join
 * another room B, (c) while they join room A itself. Room A's publishers and its viewer run in one child process (the
 * "watcher"), the joiners in another (the "joiner"), so neither the bench's nor a test's event loop (which may host the
 * server) is what stalls; only the server sits between them. Phases are interleaved round by round (quiet, other room,
 * own room, quiet, …) so a machine that gets busier or quieter meanwhile affects all three alike.
 *
 * Used by the bench (bench/run.ts, or alone: `node dist/bench/join-stall.js` after `npm run build`) and by
 * test/e2e/join-stall.e2e-spec.ts. Targets (issue "Every core"): a join in another room → longest gap ≤ 100 ms; a
 * join in the same room → ≤ 150 ms.
 */
import { epochNow, startPeerProcess, type FrameWindow, type JoinTiming, type PeerProcess, type PublisherSpec } from '../test/helpers/peer-process';
import * as path from 'node:path';
import { median, sleep } from './measure';
import { startServer } from './server-process';

export interface JoinStallTarget {
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number }>;
}

export interface JoinStallOptions {
  /** Rounds of (quiet, other room, own room) (default 3). */
  rounds?: number;
  /** Who joins in each burst: publishers (320x180 at 15 fps) and light viewers, all at once (default 2 and 4). */
  burstPublishers?: number;
  burstViewers?: number;
  /** How long the window goes on after the last joiner connected (default 1500 ms): the first keyframes, a new layout. */
  holdMs?: number;
  /** Pause after the joiners left, before the next window (default 2000 ms). */
  settleMs?: number;
  /** Room A's publishers (default four 320x180 15 fps tiles, as the e2e rooms). */
  roomAPublishers?: PublisherSpec[];
  /** Room settings for A and B (default 1280x720, 30 fps, 1500 kbps). */
  room?: Record<string, unknown>;
  roomA?: string;
  roomB?: string;
}

export interface JoinStallPhase {
  /** Longest gap between the watcher's frames, per window (ms). */
  longestGapMs: number[];
  medianMs: number;
  maxMs: number;
  /** Decoded fps per window. */
  fps: number[];
  windowMs: number[];
  /** From the burst's start until every joiner connected (ms), per window (none in the quiet phase). */
  joinMs: number[];
  /** Joins that failed (with the reason), if any. */
  errors: string[];
}

export interface JoinStallResult {
  rounds: number;
  burst: { publishers: number; viewers: number };
  /** Ms from the watcher's WHEP request to its first frame. */
  watcherFirstFrameMs: number;
  quiet: JoinStallPhase;
  otherRoom: JoinStallPhase;
  ownRoom: JoinStallPhase;
  /** Event-loop delay of the two child processes over the run (p99 / max, ms): high values mean the load generators, not the server, lagged. */
  watcherLoopDelayMs: [number, number];
  joinerLoopDelayMs: [number, number];
}

const TILES: Array<[number, number, number]> = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
];
const defaultRoomA = (): PublisherSpec[] => TILES.map((color, i) => ({ identity: `a-pub-${i}`, color, toneHz: 440 + 200 * i, width: 320, height: 180, fps: 15, gop: 15 }));
const emptyPhase = (): JoinStallPhase => ({ longestGapMs: [], medianMs: NaN, maxMs: NaN, fps: [], windowMs: [], joinMs: [], errors: [] });

export async function measureJoinStall(target: JoinStallTarget, opts: JoinStallOptions = {}): Promise<JoinStallResult> {
  const rounds = opts.rounds ?? 3;
  const burstPubs = opts.burstPublishers ?? 2;
  const burstViewers = opts.burstViewers ?? 4;
  const holdMs = opts.holdMs ?? 1500;
  const settleMs = opts.settleMs ?? 2000;
  const A = opts.roomA ?? 'stall-a';
  const B = opts.roomB ?? 'stall-b';
  const roomSettings = opts.room ?? { width: 1280, height: 720, fps: 30, videoBitrateKbps: 1500 };
  for (const name of [A, B]) {
    const r = await target.admin('POST', '/v1/rooms', { name, ...roomSettings });
    if (r.status !== 201) throw new Error(`creating room ${name}: ${r.status}`);
  }
  const creds = { baseUrl: target.baseUrl, apiKey: target.apiKey, apiSecret: target.apiSecret };
  let watcher: PeerProcess | undefined;
  let joiner: PeerProcess | undefined;
  try {
    watcher = await startPeerProcess({ ...creds, name: 'watcher' });
    joiner = await startPeerProcess({ ...creds, name: 'joiner' });
    const pubs = await watcher.publishers('a-pubs', A, opts.roomAPublishers ?? defaultRoomA());
    const failed = pubs.filter((p) => p.error);
    if (failed.length) throw new Error(`room A's publishers did not connect: ${JSON.stringify(failed)}`);
    const { firstFrameMs } = await watcher.watch('a-watch', A, 'a-watcher');
    await sleep(3000); // the watcher's first keyframe and the four tiles are behind us
    await watcher.stats();
    await joiner.stats();

    const phases = { quiet: emptyPhase(), otherRoom: emptyPhase(), ownRoom: emptyPhase() };
    const record = (p: JoinStallPhase, w: FrameWindow, ms: number) => {
      p.longestGapMs.push(Math.round(w.longestGapMs * 10) / 10);
      p.fps.push(Math.round(w.fps * 10) / 10);
      p.windowMs.push(Math.round(ms));
    };
    const burst = async (room: string, round: number, phase: JoinStallPhase) => {
      const group = `burst-${room}-${round}`;
      const t0 = epochNow();
      const timings: JoinTiming[] = (
        await Promise.all([
          joiner!.publishers(`${group}-pubs`, room, Array.from({ length: burstPubs }, (_, i) => ({ identity: `${group}-pub-${i}`, color: [255, 0, 255] as [number, number, number], toneHz: 1500 + 100 * i, width: 320, height: 180, fps: 15, gop: 15 })), { concurrent: true }),
          joiner!.lightViewers(`${group}-viewers`, room, burstViewers, { identityPrefix: `${group}-viewer`, concurrency: burstViewers, connectTimeoutMs: 10_000 }),
        ])
      ).flat();
      // The window ends `holdMs` after the last joiner that made it connected: one that never does (it is reported) does
      // not stretch the window over its whole timeout.
      const ok = timings.filter((t) => t.connectMs !== undefined);
      const connected = ok.length ? Math.max(...ok.map((t) => t.startedAt + t.connectMs!)) : epochNow();
      const t1 = connected + holdMs;
      const wait = t1 - epochNow();
      if (wait > 0) await sleep(wait);
      record(phase, await watcher!.frames('a-watch', t0, t1), t1 - t0);
      phase.joinMs.push(Math.round(connected - t0));
      phase.errors.push(...timings.filter((t) => t.error).map((t) => `${t.identity}: ${t.error}`));
      await Promise.all([joiner!.leave(`${group}-pubs`), joiner!.leave(`${group}-viewers`)]);
      await sleep(settleMs);
      return t1 - t0;
    };
    let lastWindowMs = 4000;
    for (let r = 0; r < rounds; r++) {
      // quiet: as long as the last join window
      const t0 = epochNow();
      await sleep(lastWindowMs);
      const t1 = epochNow();
      record(phases.quiet, await watcher.frames('a-watch', t0, t1), t1 - t0);
      lastWindowMs = await burst(B, r, phases.otherRoom);
      lastWindowMs = (lastWindowMs + (await burst(A, r, phases.ownRoom))) / 2;
    }
    for (const p of Object.values(phases)) {
      p.medianMs = median(p.longestGapMs);
      p.maxMs = Math.max(...p.longestGapMs);
    }
    const ws = await watcher.stats();
    const js = await joiner.stats();
    return {
      rounds,
      burst: { publishers: burstPubs, viewers: burstViewers },
      watcherFirstFrameMs: Math.round(firstFrameMs),
      ...phases,
      watcherLoopDelayMs: [ws.loopDelayP99Ms, ws.loopDelayMaxMs],
      joinerLoopDelayMs: [js.loopDelayP99Ms, js.loopDelayMaxMs],
    };
  } finally {
    await Promise.allSettled([joiner?.close(), watcher?.close()]);
    for (const name of [A, B]) await target.admin('DELETE', `/v1/rooms/${name}`).catch(() => undefined);
  }
}

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');

export function joinStallMarkdown(r: JoinStallResult): string {
  const row = (what: string, p: JoinStallPhase, target: string) =>
    `| ${what} | ${f0(p.medianMs)} / ${f0(p.maxMs)} | ${p.longestGapMs.map(f0).join(', ')} | ${p.fps.map((v) => v.toFixed(1)).join(', ')} | ${p.joinMs.length ? p.joinMs.map(f0).join(', ') : '–'} | ${target} |`;
  return [
    `| join stall: longest gap between a room A viewer's frames (${r.rounds} rounds; a burst = ${r.burst.publishers} publishers + ${r.burst.viewers} viewers joining at once) | median / max (ms) | per round (ms) | fps per round | burst connected after (ms) | target |`,
    '|---|---|---|---|---|---|',
    row('quiet', r.quiet, '–'),
    row('while a burst joins room B', r.otherRoom, '≤ 100 ms'),
    row('while a burst joins room A', r.ownRoom, '≤ 150 ms'),
  ].join('\n');
}

if (require.main === module) {
  // Alone, against its own server process: node dist/bench/join-stall.js (BENCH_JOIN_STALL_ROUNDS, default 3)
  void (async () => {
    const server = await startServer(path.resolve(__dirname, '..', '..'));
    try {
      const r = await measureJoinStall(server, { rounds: Number(process.env.BENCH_JOIN_STALL_ROUNDS ?? 3) });
      console.log(JSON.stringify(r));
      console.log(joinStallMarkdown(r));
    } finally {
      await server.stop();
    }
  })().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
