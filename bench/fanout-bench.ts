/**
 * Fan-out cost: the output room (bench-room.ts: four 640x360 publishers with a moving bar, a 1280x720 H.264 mix at
 * 1500 kbps, one decoding viewer) with 0, then BENCH_FANOUT_SIZES (default 10,25,50) light viewers (werift peers that
 * only count RTP, in a child process). At each size, BENCH_FANOUT_WINDOWS (3) windows of the given seconds each: the
 * server process's CPU from /proc (the whole process, its main thread — tid == pid — apart from its other threads,
 * and its ffmpeg children apart), what the light viewers and the decoding viewer got. Medians over the windows.
 * CPU per viewer is the least-squares slope over the sizes; viewers per core is its inverse.
 *
 * Alone: `npm run build && node dist/bench/fanout-bench.js` (BENCH_SECONDS, BENCH_FANOUT_SIZES, BENCH_FANOUT_WINDOWS).
 */
import * as path from 'node:path';
import { startPeerProcess, type LightViewerRate } from '../test/helpers/peer-process';
import { startLoadedRoom } from './bench-room';
import { joinStallMarkdown, measureJoinStall } from './join-stall';
import { median, sleep } from './measure';
import { coresBetween, readProcessCpu } from './proc-cpu';
import { startServer, type ServerProcess } from './server-process';

export interface FanoutPoint {
  lightViewers: number;
  /** Medians over the windows (cores). */
  processCores: number;
  mainThreadCores: number;
  otherThreadsCores: number;
  ffmpegCores: number;
  /** The peer child process (the light viewers' side), for context. */
  lightViewersProcessCores: number;
  /** Light viewers' received rate (kbps, median over viewers of the median over windows) and the lowest one. */
  lightKbpsMedian: number;
  lightKbpsMin: number;
  /** Light viewers under 80 % of the median, in the worst window. */
  lightBelow80Percent: number;
  /** The longest gap between video packets any light viewer saw, in the worst window (ms). */
  lightLongestVideoGapMs: number;
  decodingFps: number;
  decodingLongestFreezeMs: number;
  /** Per window, for the record. */
  windows: Array<{ processCores: number; mainThreadCores: number; otherThreadsCores: number; ffmpegCores: number; topThreads: Array<{ tid: number; cores: number }> }>;
  /** Light viewers that did not connect, so far (they are not in the rates). */
  joinFailures: number;
}

export interface FanoutResult {
  publishers: number;
  windowSeconds: number;
  windowsPerSize: number;
  /** 0 light viewers first (the room with its one decoding viewer), then each size. */
  points: FanoutPoint[];
  /** Least-squares slope over the sizes (cores per light viewer): the whole server process, its main thread, the tree with ffmpeg. */
  coresPerViewer: number;
  mainThreadCoresPerViewer: number;
  otherThreadsCoresPerViewer: number;
  viewersPerCore: number;
  viewersPerMainThreadCore: number;
  /** The main thread of the 4-publisher room with one viewer (cores): what a room costs the main thread without fan-out. */
  baseMainThreadCores: number;
  baseProcessCores: number;
  baseFfmpegCores: number;
}

const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '10,25,50').split(',').map(Number).filter((n) => n > 0);
const WINDOWS = Number(process.env.BENCH_FANOUT_WINDOWS ?? 3);

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

export async function fanoutCost(server: ServerProcess, measureS: number): Promise<FanoutResult> {
  const name = 'bench-fanout';
  const windowS = Math.min(measureS, 10);
  const room = await startLoadedRoom(server, name);
  const peers = await startPeerProcess({ baseUrl: server.baseUrl, apiKey: server.apiKey, apiSecret: server.apiSecret, name: 'light-viewers' });
  const points: FanoutPoint[] = [];
  try {
    let joined = 0;
    let joinFailures = 0;
    for (const size of [0, ...SIZES]) {
      if (size > joined) {
        // A burst of joins can make the room's worker refuse some with 503 worker_load (admission control reads its
        // event-loop utilisation); like a real client, a refused viewer tries again after a pause, a few times.
        for (let attempt = 0; attempt < 4 && size > joined; attempt++) {
          if (attempt) await sleep(2000);
          const joins = await peers.lightViewers('fan', name, size - joined, { concurrency: 5, identityPrefix: `light-${size}-${attempt}` });
          joined += joins.filter((j) => !j.error).length;
        }
        joinFailures += size - joined;
        joined = size; // the next size adds its own viewers; the ones that never joined are reported
        await sleep(3000); // the new viewers' first keyframes and the estimates settle
      }
      const windows: FanoutPoint['windows'] = [];
      const rates: LightViewerRate[][] = [];
      const decoded: Array<{ fps: number; freeze: number }> = [];
      const child: number[] = [];
      for (let w = 0; w < WINDOWS; w++) {
        const c0 = readProcessCpu(server.pid);
        const p0 = readProcessCpu(peers.pid);
        await sleep(windowS * 1000);
        const c = coresBetween(c0, readProcessCpu(server.pid));
        child.push(coresBetween(p0, readProcessCpu(peers.pid)).process);
        windows.push({ processCores: c.process, mainThreadCores: c.mainThread, otherThreadsCores: c.otherThreads, ffmpegCores: c.descendants, topThreads: c.topThreads });
        if (size > 0) rates.push(await peers.rates(windowS * 1000, 'fan'));
        const q = room.viewer!.quality(windowS * 1000);
        decoded.push({ fps: q.decodedFps, freeze: q.longestFreezeMs });
      }
      const perViewer = new Map<string, number[]>();
      for (const win of rates) for (const r of win) perViewer.set(r.identity, [...(perViewer.get(r.identity) ?? []), r.kbps]);
      const viewerMedians = [...perViewer.values()].map(median);
      const point: FanoutPoint = {
        lightViewers: size,
        processCores: median(windows.map((w) => w.processCores)),
        mainThreadCores: median(windows.map((w) => w.mainThreadCores)),
        otherThreadsCores: median(windows.map((w) => w.otherThreadsCores)),
        ffmpegCores: median(windows.map((w) => w.ffmpegCores)),
        lightViewersProcessCores: median(child),
        lightKbpsMedian: viewerMedians.length ? median(viewerMedians) : NaN,
        lightKbpsMin: viewerMedians.length ? Math.min(...viewerMedians) : NaN,
        lightBelow80Percent: Math.max(0, ...rates.map((win) => {
          const m = median(win.map((r) => r.kbps));
          return win.filter((r) => r.kbps < 0.8 * m).length;
        })),
        lightLongestVideoGapMs: Math.max(0, ...rates.flat().map((r) => r.longestVideoGapMs)),
        decodingFps: median(decoded.map((d) => d.fps)),
        decodingLongestFreezeMs: Math.max(...decoded.map((d) => d.freeze)),
        windows,
        joinFailures,
      };
      points.push(point);
      console.log(`fan-out, ${size} light viewers: ${JSON.stringify({ ...point, windows: undefined })}`);
    }
  } finally {
    await peers.close().catch(() => undefined);
    await room.close();
  }
  const sized = points.filter((p) => p.lightViewers > 0);
  const xs = sized.map((p) => p.lightViewers - p.joinFailures); // viewers that really joined
  const coresPerViewer = slope(xs, sized.map((p) => p.processCores));
  const mainPerViewer = slope(xs, sized.map((p) => p.mainThreadCores));
  return {
    publishers: room.pubs.length,
    windowSeconds: windowS,
    windowsPerSize: WINDOWS,
    points,
    coresPerViewer,
    mainThreadCoresPerViewer: mainPerViewer,
    otherThreadsCoresPerViewer: slope(xs, sized.map((p) => p.otherThreadsCores)),
    viewersPerCore: 1 / coresPerViewer,
    viewersPerMainThreadCore: 1 / mainPerViewer,
    baseMainThreadCores: points[0].mainThreadCores,
    baseProcessCores: points[0].processCores,
    baseFfmpegCores: points[0].ffmpegCores,
  };
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');

export function fanoutMarkdown(r: FanoutResult): string {
  return [
    `| fan-out in a ${r.publishers}-publisher room: light viewers (+1 decoding) | server process (cores) | main thread | other threads | ffmpeg children | light viewers' kbps median / min (< 80 % of median) | longest video packet gap (ms) | decoding viewer fps / longest freeze (ms) |`,
    '|---|---|---|---|---|---|---|---|',
    ...r.points.map(
      (p) =>
        `| ${p.lightViewers} | ${f2(p.processCores)} | ${f2(p.mainThreadCores)} | ${f2(p.otherThreadsCores)} | ${f2(p.ffmpegCores)} | ${p.lightViewers ? `${f0(p.lightKbpsMedian)} / ${f0(p.lightKbpsMin)} (${p.lightBelow80Percent})${p.joinFailures ? `; ${p.joinFailures} joins failed` : ''}` : '–'} | ${p.lightViewers ? f0(p.lightLongestVideoGapMs) : '–'} | ${p.decodingFps.toFixed(1)} / ${f0(p.decodingLongestFreezeMs)} |`,
    ),
    '',
    `CPU per viewer (slope over ${r.points.filter((p) => p.lightViewers).map((p) => p.lightViewers).join('/')} viewers, medians of ${r.windowsPerSize} × ${r.windowSeconds} s): ` +
      `${f3(r.coresPerViewer)} core for the server process (${f0(r.viewersPerCore)} viewers per core), ${r.mainThreadCoresPerViewer < 0.0005 ? '≈ 0 (below what /proc resolves)' : `${f3(r.mainThreadCoresPerViewer)} (${f0(r.viewersPerMainThreadCore)} per main-thread core)`} on its main thread, ${f3(r.otherThreadsCoresPerViewer)} on other threads. ` +
      `The room with one viewer: ${f2(r.baseMainThreadCores)} core on the main thread, ${f2(r.baseProcessCores)} for the whole process, ${f2(r.baseFfmpegCores)} in ffmpeg.`,
  ].join('\n');
}

if (require.main === module) {
  // Alone, against its own server process; also the join stall unless BENCH_JOIN_STALL=0.
  void (async () => {
    const server = await startServer(path.resolve(__dirname, '..', '..'));
    try {
      const r = await fanoutCost(server, Number(process.env.BENCH_SECONDS ?? 10));
      console.log(JSON.stringify(r));
      console.log(fanoutMarkdown(r));
      if (process.env.BENCH_JOIN_STALL !== '0') {
        const s = await measureJoinStall(server, { rounds: Number(process.env.BENCH_JOIN_STALL_ROUNDS ?? 3) });
        console.log(JSON.stringify(s));
        console.log(joinStallMarkdown(s));
      }
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
