/**
 * Rooms per node: rooms are added one at a time (each BENCH_ROOMS_PUBLISHERS publishers at 320x180 15 fps, a
 * 1280x720 H.264 mix at 1500 kbps, one decoding viewer) until one room composes under 28 fps, a viewer decodes under
 * 25 fps, or BENCH_ROOMS_MAX rooms run. After each addition, BENCH_SECONDS of measurement: every room's composed fps
 * (from its framesComposed counter), the server tree's CPU, the main thread's CPU, the viewers' fps. The load
 * generators (publishers' encoders, viewers' decoders) share this machine's cores, so the answer is "as far as this
 * machine can carry them": the table says how much they took.
 *
 * Alone: `npm run build && node dist/bench/rooms-bench.js`.
 */
import * as path from 'node:path';
import { startPublisher, type Publisher } from '../test/helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../test/helpers/whep-subscriber';
import { median, sleep } from './measure';
import { coresBetween, readProcessCpu, treeCpuSeconds } from './proc-cpu';
import { startServer, type ServerProcess } from './server-process';

export interface RoomsStep {
  rooms: number;
  serverTreeCores: number;
  mainThreadCores: number;
  loadGeneratorCores: number;
  minComposedFps: number;
  composedFps: number[];
  viewerFps: number[];
  longestFreezeMs: number;
}

export interface RoomsResult {
  publishersPerRoom: number;
  steps: RoomsStep[];
  /** Rooms that all held ≥ 28 composed fps and ≥ 25 decoded fps. */
  roomsAt30Fps: number;
  /** Admission control refused the next room (its cost model said the node was full): which one, and why. */
  refused?: { room: number; message: string };
  cores: number;
}

interface BenchRoom {
  name: string;
  pubs: Publisher[];
  viewer: Subscriber;
}

const COLORS: Array<[number, number, number]> = [[255, 0, 0], [0, 160, 0], [0, 0, 255], [230, 230, 0]];

async function addRoom(server: ServerProcess, name: string, publishers: number): Promise<BenchRoom> {
  await server.admin('POST', '/v1/rooms', { name, width: 1280, height: 720, fps: 30, videoBitrateKbps: 1500 });
  const pubs: Publisher[] = [];
  for (let i = 0; i < publishers; i++) {
    pubs.push(
      await startPublisher({
        whipUrl: `${server.baseUrl}/v1/rooms/${name}/whip`,
        token: await server.token(name, `p${i}`),
        color: COLORS[i % COLORS.length],
        toneHz: 440 + 110 * i,
        toneAmplitude: 0.1,
        width: 320,
        height: 180,
        fps: 15,
        gop: 30,
      }),
    );
  }
  const viewer = await startSubscriber({ whepUrl: `${server.baseUrl}/v1/rooms/${name}/whep`, token: await server.token(name, 'viewer') });
  await viewer.waitForFrame(() => true, 15_000);
  return { name, pubs, viewer };
}

async function composed(server: ServerProcess, name: string): Promise<number> {
  const r = await server.admin('GET', `/v1/rooms/${name}`);
  return (r.json as { mixer?: { stats?: { framesComposed?: number } } }).mixer?.stats?.framesComposed ?? 0;
}

async function measureStep(server: ServerProcess, rooms: BenchRoom[], seconds: number): Promise<RoomsStep> {
  const c0 = await Promise.all(rooms.map((r) => composed(server, r.name)));
  const p0 = readProcessCpu(server.pid);
  const tree0 = treeCpuSeconds(server.pid).seconds;
  const gen0 = treeCpuSeconds(process.pid).seconds;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const dt = (performance.now() - t0) / 1000;
  const c1 = await Promise.all(rooms.map((r) => composed(server, r.name)));
  const cores = coresBetween(p0, readProcessCpu(server.pid));
  const gen = treeCpuSeconds(process.pid).seconds - gen0;
  const fps = c1.map((c, i) => Math.round(((c - c0[i]) / dt) * 10) / 10);
  const q = rooms.map((r) => r.viewer.quality(seconds * 1000));
  return {
    rooms: rooms.length,
    serverTreeCores: Math.round(((treeCpuSeconds(server.pid).seconds - tree0) / dt) * 100) / 100,
    mainThreadCores: Math.round(cores.mainThread * 1000) / 1000,
    loadGeneratorCores: Math.round((gen / dt) * 100) / 100,
    minComposedFps: Math.min(...fps),
    composedFps: fps,
    viewerFps: q.map((x) => Math.round(x.decodedFps * 10) / 10),
    longestFreezeMs: Math.round(Math.max(...q.map((x) => x.longestFreezeMs))),
  };
}

export async function roomsPerNode(server: ServerProcess, seconds: number): Promise<RoomsResult> {
  const max = Number(process.env.BENCH_ROOMS_MAX ?? 6);
  const publishers = Number(process.env.BENCH_ROOMS_PUBLISHERS ?? 2);
  const rooms: BenchRoom[] = [];
  const steps: RoomsStep[] = [];
  let refused: RoomsResult['refused'];
  try {
    for (let k = 1; k <= max; k++) {
      try {
        rooms.push(await addRoom(server, `bench-rooms-${k}`, publishers));
      } catch (e) {
        const message = (e as Error).message;
        if (!/answered 503/.test(message)) throw e;
        let why = message;
        try {
          why = (JSON.parse(message.slice(message.indexOf('{'))) as { error: { message: string } }).error.message;
        } catch {
          /* not the JSON error body: keep the whole message */
        }
        refused = { room: k, message: why };
        console.log(`rooms: admission refused room ${k}: ${refused.message}`);
        await server.admin('DELETE', `/v1/rooms/bench-rooms-${k}`).catch(() => undefined);
        break;
      }
      await sleep(5000);
      // a window right after the joins can catch their transient cost: below the bar, one more window decides
      let step = await measureStep(server, rooms, seconds);
      if (step.minComposedFps < 28 || Math.min(...step.viewerFps) < 25) step = await measureStep(server, rooms, seconds);
      steps.push(step);
      console.log(`rooms: ${JSON.stringify(step)}`);
      if (step.minComposedFps < 28 || Math.min(...step.viewerFps) < 25) break;
    }
  } finally {
    for (const r of rooms) {
      await r.viewer.close().catch(() => undefined);
      await Promise.allSettled(r.pubs.map((p) => p.close()));
      await server.admin('DELETE', `/v1/rooms/${r.name}`).catch(() => undefined);
    }
  }
  const ok = steps.filter((s) => s.minComposedFps >= 28 && Math.min(...s.viewerFps) >= 25);
  return { publishersPerRoom: publishers, steps, ...(refused ? { refused } : {}), roomsAt30Fps: ok.length ? Math.max(...ok.map((s) => s.rooms)) : 0, cores: (await import('node:os')).availableParallelism() };
}

export function roomsMarkdown(r: RoomsResult): string {
  const rows = r.steps.map(
    (s) =>
      `| ${s.rooms} | ${s.serverTreeCores.toFixed(2)} | ${s.mainThreadCores.toFixed(3)} | ${s.loadGeneratorCores.toFixed(2)} | ${s.composedFps.join(', ')} | ${s.viewerFps.join(', ')} | ${s.longestFreezeMs} |`,
  );
  return (
    `Rooms per node (${r.cores} cores): rooms of ${r.publishersPerRoom} publishers (320x180 15 fps) and one decoding viewer each, added one at a time; ` +
    `**${r.roomsAt30Fps} room(s)** held ≥ 28 composed and ≥ 25 decoded fps. The load generators run on the same cores (their CPU in the table); ` +
    `composed fps comes from the room's frame counter as the main thread mirrors it (once a second), so ±2–4 fps over a window.` +
    (r.refused ? ` Admission control refused room ${r.refused.room} (default \`NODE_CAPACITY_CORES\`, its cost model): "${r.refused.message}".` : '') +
    `\n\n` +
    `| rooms | server tree (cores) | main thread (cores) | load generators (cores) | composed fps per room | viewer fps per room | longest freeze (ms) |\n|---|---|---|---|---|---|---|\n` +
    rows.join('\n')
  );
}

if (require.main === module) {
  void (async () => {
    const server = await startServer(path.resolve(__dirname, '..', '..'));
    try {
      const r = await roomsPerNode(server, Number(process.env.BENCH_SECONDS ?? 8));
      console.log(`\n${roomsMarkdown(r)}\n`);
      console.log(JSON.stringify({ median: median(r.steps.map((s) => s.serverTreeCores)) }));
    } finally {
      await server.stop();
    }
    process.exit(0);
  })();
}
