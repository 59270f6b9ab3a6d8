/**
 * The child side of test/helpers/peer-process.ts: `node peer-process-child.js '{"baseUrl":…,"apiKey":…,"apiSecret":…}'`.
 * Reads one JSON command per line on stdin, writes one JSON reply per command on stdout ({id, ok, result | error});
 * everything else it prints goes to stderr. Ends when told to (`exit`) or when stdin closes.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as readline from 'node:readline';
import { startLightViewer, type LightCounters, type LightViewer } from './light-viewer';
import type { ChildStats, FrameWindow, JoinTiming, LightViewerRate, PeerCommand, PublisherSpec } from './peer-process';
import { startPublisher, type Publisher } from './synthetic-publisher';
import { httpRequest } from './webrtc-peer';
import { startSubscriber, type Subscriber } from './whep-subscriber';

// stdout carries the replies only
console.log = console.error;
console.info = console.error;

const cfg = JSON.parse(process.argv[2] ?? '{}') as { baseUrl: string; apiKey: string; apiSecret: string };
const basic = `Basic ${Buffer.from(`${cfg.apiKey}:${cfg.apiSecret}`).toString('base64')}`;
const epoch = (at = performance.now()): number => performance.timeOrigin + at;
const HISTORY_MS = 65_000;

interface ViewerEntry {
  identity: string;
  viewer: LightViewer;
  /** Counter readings every 250 ms, oldest first. */
  history: LightCounters[];
}
interface Watcher {
  sub: Subscriber;
  /** Epoch ms of each decoded frame. */
  times: number[];
}
interface Group {
  room: string;
  viewers: ViewerEntry[];
  pubs: Array<{ identity: string; pub: Publisher }>;
  watcher?: Watcher;
  stopped: boolean;
}
const groups = new Map<string, Group>();
const groupOf = (name: string, room: string): Group => {
  let g = groups.get(name);
  if (!g) {
    g = { room, viewers: [], pubs: [], stopped: false };
    groups.set(name, g);
  } else if (g.room !== room) {
    throw new Error(`group ${name} is in room ${g.room}, not ${room}`);
  }
  return g;
};

async function token(room: string, identity: string, canPublish: boolean): Promise<string> {
  const res = await httpRequest(
    'POST',
    `${cfg.baseUrl}/v1/rooms/${encodeURIComponent(room)}/tokens`,
    { Authorization: basic, 'Content-Type': 'application/json' },
    JSON.stringify({ identity, canPublish }),
  );
  if (res.status !== 201) throw new Error(`token for ${identity} in ${room}: ${res.status} ${res.body.slice(0, 300)}`);
  return (JSON.parse(res.body) as { token: string }).token;
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return out;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);

async function addViewers(c: Extract<PeerCommand, { cmd: 'viewers' }>): Promise<JoinTiming[]> {
  const g = groupOf(c.group, c.room);
  const prefix = c.identityPrefix ?? c.group;
  const first = g.viewers.length;
  const jobs = Array.from({ length: c.count }, (_, k) => async (): Promise<JoinTiming> => {
    const identity = `${prefix}-${first + k}`;
    const t0 = performance.now();
    const timing: JoinTiming = { identity, startedAt: epoch(t0) };
    try {
      const viewer = await startLightViewer({
        whepUrl: `${cfg.baseUrl}/v1/rooms/${encodeURIComponent(c.room)}/whep`,
        token: await token(c.room, identity, false),
        connectTimeoutMs: c.connectTimeoutMs ?? 30_000, // a loaded 2-core machine can take long; a join that needs more counts as failed
        silent: c.silent,
      });
      timing.signalMs = performance.now() - t0;
      const entry = { identity, viewer, history: [viewer.counters()] };
      g.viewers.push(entry);
      try {
        await viewer.connected();
      } catch (e) {
        // a viewer that never connected is reported as failed, not counted as a viewer getting 0 kbps
        g.viewers.splice(g.viewers.indexOf(entry), 1);
        await viewer.leave().catch(() => 0);
        throw e;
      }
      timing.connectMs = performance.now() - t0;
    } catch (e) {
      timing.error = errText(e);
    }
    return timing;
  });
  return pool(jobs, c.concurrency ?? 5);
}

async function addPublishers(c: Extract<PeerCommand, { cmd: 'publishers' }>): Promise<JoinTiming[]> {
  const g = groupOf(c.group, c.room);
  const jobs = c.people.map((p: PublisherSpec) => async (): Promise<JoinTiming> => {
    const t0 = performance.now();
    const timing: JoinTiming = { identity: p.identity, startedAt: epoch(t0) };
    try {
      const pub = await startPublisher({
        whipUrl: `${cfg.baseUrl}/v1/rooms/${encodeURIComponent(c.room)}/whip`,
        token: await token(c.room, p.identity, true),
        color: p.color,
        toneHz: p.toneHz,
        toneAmplitude: p.toneAmplitude ?? 0.1,
        width: p.width ?? 320,
        height: p.height ?? 180,
        fps: p.fps ?? 15,
        gop: p.gop ?? 15,
        movingBar: p.movingBar,
      });
      timing.signalMs = performance.now() - t0;
      g.pubs.push({ identity: p.identity, pub });
      await pub.connected();
      timing.connectMs = performance.now() - t0;
    } catch (e) {
      timing.error = errText(e);
    }
    return timing;
  });
  return pool(jobs, c.concurrent ? jobs.length : 1);
}

async function watch(c: Extract<PeerCommand, { cmd: 'watch' }>): Promise<{ firstFrameMs: number }> {
  const g = groupOf(c.group, c.room);
  if (g.watcher) throw new Error(`group ${c.group} already has a watcher`);
  const t0 = performance.now();
  const sub = await startSubscriber({
    whepUrl: `${cfg.baseUrl}/v1/rooms/${encodeURIComponent(c.room)}/whep`,
    token: await token(c.room, c.identity, false),
    decodeWidth: c.decodeWidth,
    decodeHeight: c.decodeHeight,
  });
  const w: Watcher = { sub, times: [] };
  g.watcher = w;
  const first = await sub.waitForFrame(() => true, 20_000);
  // Record every frame's time (frames that came out of the decoder together share one time).
  void (async () => {
    let last = 0;
    while (!g.stopped) {
      try {
        const f = await sub.waitForFrame((x) => x.index > last, 2000);
        for (let i = last; i < f.index; i++) w.times.push(epoch(f.at));
        last = f.index;
        const old = epoch() - HISTORY_MS;
        if (w.times.length > 4096 && w.times[2048] < old) w.times.splice(0, 2048);
      } catch {
        /* no frame for 2 s (the gap shows in the times), or closed */
      }
    }
  })();
  return { firstFrameMs: first.at - t0 };
}

function frames(c: Extract<PeerCommand, { cmd: 'frames' }>): FrameWindow {
  const w = groups.get(c.group)?.watcher;
  if (!w) throw new Error(`group ${c.group} has no watcher`);
  const inside = w.times.filter((t) => t >= c.from && t <= c.to);
  const points = [c.from, ...inside, c.to];
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < points.length; i++) gaps.push([points[i] - points[i - 1], points[i - 1]]);
  gaps.sort((a, b) => b[0] - a[0]);
  const sec = (c.to - c.from) / 1000;
  return {
    frames: inside.length,
    fps: sec > 0 ? inside.length / sec : 0,
    longestGapMs: gaps[0]?.[0] ?? 0,
    longestGapAt: gaps[0]?.[1] ?? c.from,
    topGapsMs: gaps.slice(0, 5).map((g) => Math.round(g[0] * 10) / 10),
  };
}

function rates(c: Extract<PeerCommand, { cmd: 'rates' }>): LightViewerRate[] {
  const out: LightViewerRate[] = [];
  const now = performance.now();
  for (const [name, g] of groups) {
    if (c.group !== undefined && name !== c.group) continue;
    for (const v of g.viewers) {
      const cur = v.viewer.counters();
      const from = v.history.find((s) => s.at >= now - c.windowMs) ?? cur;
      const ms = cur.at - from.at;
      const per = (d: number) => (ms > 0 ? (d * 1000) / ms : 0);
      out.push({
        group: name,
        identity: v.identity,
        windowMs: ms,
        kbps: per(((cur.bytes - from.bytes) * 8) / 1000),
        videoKbps: per(((cur.videoBytes - from.videoBytes) * 8) / 1000),
        audioKbps: per(((cur.audioBytes - from.audioBytes) * 8) / 1000),
        videoPacketsPerSecond: per(cur.videoPackets - from.videoPackets),
        audioPacketsPerSecond: per(cur.audioPackets - from.audioPackets),
        longestVideoGapMs: v.viewer.longestVideoGap(from.at, cur.at),
        totalBytes: cur.bytes,
        totalPackets: cur.packets,
      });
    }
  }
  return out;
}

async function leave(name: string): Promise<void> {
  const g = groups.get(name);
  if (!g) return;
  g.stopped = true;
  groups.delete(name);
  await Promise.allSettled([
    pool(g.viewers.map((v) => () => v.viewer.leave().catch(() => 0)), 10),
    ...g.pubs.map((p) => p.pub.leave().catch(() => 0)),
    g.watcher?.sub.leave().catch(() => 0),
  ]);
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
function stats(): ChildStats {
  const s: ChildStats = { loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6, cpuSeconds: 0 };
  const u = process.cpuUsage();
  s.cpuSeconds = (u.user + u.system) / 1e6;
  loopDelay.reset();
  return s;
}

const sampler = setInterval(() => {
  const old = performance.now() - HISTORY_MS;
  for (const g of groups.values()) {
    for (const v of g.viewers) {
      v.history.push(v.viewer.counters());
      if (v.history.length > 8 && v.history[0].at < old) v.history.shift();
    }
  }
}, 250);

let exiting = false;
async function exit(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  clearInterval(sampler);
  await Promise.race([Promise.allSettled([...groups.keys()].map(leave)), new Promise((r) => setTimeout(r, 10_000))]);
  process.exit(code);
}

async function handle(c: PeerCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'viewers':
      return addViewers(c);
    case 'publishers':
      return addPublishers(c);
    case 'watch':
      return watch(c);
    case 'rates':
      return rates(c);
    case 'frames':
      return frames(c);
    case 'leave':
      return leave(c.group);
    case 'stats':
      return stats();
    case 'exit':
      return null;
  }
}

const reply = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let c: PeerCommand & { id: number };
  try {
    c = JSON.parse(line) as typeof c;
  } catch {
    console.error(`not JSON: ${line.slice(0, 200)}`);
    return;
  }
  handle(c).then(
    (result) => {
      if (c.cmd !== 'exit') return reply({ id: c.id, ok: true, result: result ?? null });
      // reply once everything has left
      void (async () => {
        await Promise.allSettled([...groups.keys()].map(leave));
        process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, result: null })}\n`, () => void exit(0));
      })();
    },
    (e: unknown) => reply({ id: c.id, ok: false, error: errText(e) }),
  );
});
process.stdin.on('end', () => void exit(0));
