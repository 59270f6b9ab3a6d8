/**
 * Where a room's CPU goes: `npm run build && node dist/bench/room-profile.js` starts the server, a 4-publisher room
 * (bench/bench-room.ts: 640x360 VP8 in, 1280x720 H.264 mix at 1500 kbps, one viewer), then measures PROFILE_ROUNDS
 * (3) windows of PROFILE_SECONDS (10) each, with colour flips for latency running through every window, and prints
 * the CPU (cores) of each component per window and the median:
 *   node main     the server's main thread (/proc/<pid>/task/<pid>/stat)
 *   node other    its other threads: the room workers (where the mixer runs since rooms moved into worker threads),
 *                 V8's GC/compiler helpers, libuv's pool; each thread by id in the JSON and the printed detail
 *   decoders      the per-publisher ffmpeg decoders (rawvideo out), summed, and per decoder in the JSON
 *   encoder       the mix's x264/libvpx encoder(s)
 *   other         any other child (label renders, redis, outputs)
 * PROFILE_JSON=path writes the numbers as JSON too. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" as
 * for npm run bench.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import { execFileSync } from 'node:child_process';
import { startLoadedRoom } from './bench-room';
import { flipLatencies, median, now, percentile, sleep } from './measure';
import { startServer } from './server-process';
import type { DecodedFrame } from '../test/helpers/whep-subscriber';

const ROOT = path.resolve(__dirname, '..', '..');
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 3);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a /proc stat line, in seconds, and its comm. */
function readStat(file: string): { comm: string; ppid: number; sec: number } | undefined {
  try {
    const s = readFileSync(file, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    return { comm, ppid: Number(f[1]), sec: (Number(f[11]) + Number(f[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

type Role = 'decoder' | 'encoder' | 'other';
const roleOf = (cmd: string): Role => (cmd.includes('rawvideo') && /pipe:1|unix:/.test(cmd) ? 'decoder' : /libx264|libvpx/.test(cmd) && cmd.includes('rtp://') ? 'encoder' : 'other');

/** CPU seconds so far of every component: key → seconds. */
function snapshot(serverPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const st = readStat(`/proc/${serverPid}/task/${tid}/stat`);
    if (st) out.set(Number(tid) === serverPid ? 'node main' : `node thread ${tid} ${st.comm}`, st.sec);
  }
  // every descendant (ffmpeg children; their children, if any, count with them)
  const stats = new Map<number, { ppid: number; sec: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(`/proc/${d}/stat`);
    if (st) stats.set(Number(d), st);
  }
  // the ffmpeg spawner (a `node -e` child, libs/media/src/ffmpeg/spawner.ts) is seen through: its children are the components
  const spawners = new Set([...stats].filter(([pid, s]) => s.ppid === serverPid && /^\S*node -e /.test(cmdline(pid))).map(([pid]) => pid));
  const top = (pid: number): number | undefined => {
    for (let p = pid, guard = 0; guard < 50; guard++) {
      const s = stats.get(p);
      if (!s) return undefined;
      if (s.ppid === serverPid || (spawners.has(s.ppid) && !spawners.has(p))) return p;
      p = s.ppid;
    }
    return undefined;
  };
  for (const [pid, s] of stats) {
    const t = top(pid);
    if (t === undefined) continue;
    const key = `${roleOf(cmdline(t))} ${t}`;
    out.set(key, (out.get(key) ?? 0) + s.sec);
  }
  return out;
}

interface Window {
  seconds: number;
  nodeMain: number;
  nodeOther: number;
  decoders: number;
  encoder: number;
  other: number;
  total: number;
  detail: Record<string, number>;
}

function window(a: Map<string, number>, b: Map<string, number>, secs: number): Window {
  const w: Window = { seconds: secs, nodeMain: 0, nodeOther: 0, decoders: 0, encoder: 0, other: 0, total: 0, detail: {} };
  for (const [k, v] of b) {
    const cores = (v - (a.get(k) ?? 0)) / secs; // a process that started inside the window counts from 0
    w.detail[k] = cores;
    if (k === 'node main') w.nodeMain += cores;
    else if (k.startsWith('node thread')) w.nodeOther += cores;
    else if (k.startsWith('decoder')) w.decoders += cores;
    else if (k.startsWith('encoder')) w.encoder += cores;
    else w.other += cores;
    w.total += cores;
  }
  return w;
}

async function main(): Promise<void> {
  const server = await startServer(ROOT);
  const windows: Window[] = [];
  const latencies: number[] = [];
  let fps: number[] = [];
  try {
    const room = await startLoadedRoom(server, 'profile');
    try {
      const tile = gridLayout(4, 1280, 720)[0];
      const region = (f: DecodedFrame) => ({ x: (tile.x * f.width) / 1280, y: (tile.y * f.height) / 720, w: (tile.w * f.width) / 1280, h: (tile.h * f.height) / 720 });
      fps = [];
      for (let r = 0; r < ROUNDS; r++) {
        const stats0 = ((await server.admin('GET', '/v1/rooms/profile')).json as { mixer: { stats: Record<string, number> } }).mixer.stats;
        const s0 = snapshot(server.pid);
        const t0 = now();
        const flips = flipLatencies(room.pubs[0], room.viewer!, region, Math.max(1, Math.floor((SECONDS * 1000) / 900)));
        await sleep(SECONDS * 1000);
        const s1 = snapshot(server.pid);
        const secs = (now() - t0) / 1000;
        const stats1 = ((await server.admin('GET', '/v1/rooms/profile')).json as { mixer: { stats: Record<string, number> } }).mixer.stats;
        latencies.push(...(await flips));
        const w = window(s0, s1, secs);
        windows.push(w);
        fps.push((stats1.framesEncoded - stats0.framesEncoded) / secs);
        console.log(
          `round ${r + 1}: total ${w.total.toFixed(3)} | node main ${w.nodeMain.toFixed(3)} other threads ${w.nodeOther.toFixed(3)} | decoders ${w.decoders.toFixed(3)} | encoder ${w.encoder.toFixed(3)} | other ${w.other.toFixed(3)} | mix fps ${fps[r].toFixed(1)}`,
        );
      }
    } finally {
      await room.close();
    }
  } finally {
    await server.stop();
  }
  const med = (k: keyof Omit<Window, 'detail'>) => median(windows.map((w) => w[k]));
  const summary = {
    total: med('total'),
    nodeMain: med('nodeMain'),
    nodeOther: med('nodeOther'),
    decoders: med('decoders'),
    encoder: med('encoder'),
    other: med('other'),
    mixFps: median(fps),
    latencyP50Ms: median(latencies),
    latencyP95Ms: percentile(latencies, 95),
    flips: latencies.length,
  };
  console.log(`median of ${windows.length}: ${JSON.stringify(summary)}`);
  for (const [k, v] of Object.entries(windows[Math.floor(windows.length / 2)].detail).sort((a, b) => b[1] - a[1])) if (v > 0.002) console.log(`  ${k}: ${v.toFixed(3)}`);
  if (process.env.PROFILE_JSON) writeFileSync(process.env.PROFILE_JSON, JSON.stringify({ summary, windows }, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
