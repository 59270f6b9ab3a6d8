/**
 * npm run bench: rooms of 1, 2, 4 and 9 publishers (640x360 VP8 in, 1280x720 H.264 mix at 1500 kbps), each measured for
 * MEASURE_S seconds after a warm-up: CPU of the server process tree, mix latency (a colour flip at a publisher to the
 * first subscriber frame showing it) against a plain relay-and-decode of the same publisher, subscribers' downlink, and
 * the mixer's output frame rate. Prints a table, writes JSON to bench/results/, and updates the table in README.md.
 * No pass/fail: targets are printed next to the numbers.
 * Then, unless BENCH_ADAPTIVE=0, adaptive delivery (bench/adaptive-bench.ts): a subscriber behind a shaped link per rate
 * in BENCH_LINKS (kbps, default 150,300,500,1000,3000), settling BENCH_ADAPTIVE_SETTLE s (10) and measured over
 * BENCH_SECONDS (at most 15 s); time to adapt down and up, BENCH_ADAPT_ROUNDS times (2); PLI → keyframe; CPU of the
 * lower rungs and of each extra subscriber.
 * Then, unless BENCH_FANOUT=0, fan-out (bench/fanout-bench.ts): server CPU (whole process, main thread, other threads,
 * ffmpeg) with 0 and BENCH_FANOUT_SIZES (default 10,25,50) light viewers, the slope per viewer and viewers per core;
 * and unless BENCH_JOIN_STALL=0, the join stall (bench/join-stall.ts, BENCH_JOIN_STALL_ROUNDS rounds, default 3): the
 * longest gap between a room's frames while others join another room and that room.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gridLayout } from '@app/core';
import type { Rect } from '../test/helpers/media-probe';
import { startStandIn, STANDIN_TOKEN } from '../test/helpers/relay-standin';
import { startPublisher, type Publisher } from '../test/helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../test/helpers/whep-subscriber';
import { treeCpuSeconds } from './proc-cpu';
import { countDownlink, flipLatencies, median, now, percentile, sleep } from './measure';
import { adaptiveDelivery, adaptiveMarkdown, type AdaptiveResult } from './adaptive-bench';
import { fanoutCost, fanoutMarkdown, type FanoutResult } from './fanout-bench';
import { joinStallMarkdown, measureJoinStall, type JoinStallResult } from './join-stall';
import { roomsMarkdown, roomsPerNode, type RoomsResult } from './rooms-bench';
import { clusterBench, clusterMarkdown, type ClusterResult } from './cluster-bench';
import { livestreamCost, type LivestreamCost } from './livestream-bench';
import { recordingCost, type RecordingCost } from './recording-bench';
import { startServer } from './server-process';

const ROOT = path.resolve(__dirname, '..', '..');
const SIZES = (process.env.BENCH_SIZES ?? '1,2,4,9').split(',').map(Number);
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_S = 6;
const W = 1280;
const H = 720;
const KBPS = 1500;
const FPS = 30;
const FLIPS = Number(process.env.BENCH_FLIPS ?? 12);
const TONES = [440, 620, 850, 1170, 1500, 1800, 2100, 2500, 2900];

interface RoomResult {
  publishers: number;
  cpuCores: number;
  serverProcesses: number;
  loadGeneratorCores: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyAboveBaselineP50Ms: number;
  latencyAboveBaselineP95Ms: number;
  latencySamples: number;
  downlinkKbps: number[];
  downlinkVideoKbps: number[];
  downlinkVsTarget: number;
  mixFps: number;
  droppedFrames: number;
  /** Every mixer counter over the measured window (dropped by the encoder vs clock ticks skipped, restarts, …). */
  mixerCounters: Record<string, number>;
  /** From the WHEP request to the subscriber's first decoded picture, per subscriber. */
  firstPictureMs: number[];
}

const tileOf = (n: number, index: number) => (f: DecodedFrame): Rect => {
  const r = gridLayout(n, W, H)[index];
  return { x: (r.x * f.width) / W, y: (r.y * f.height) / H, w: (r.w * f.width) / W, h: (r.h * f.height) / H };
};
const whole = (f: DecodedFrame): Rect => ({ x: 0, y: 0, w: f.width, h: f.height });

async function baseline(): Promise<{ p50: number; p95: number; samples: number }> {
  const relay = await startStandIn('vp8');
  const pub = await startPublisher({ whipUrl: relay.whipUrl, token: STANDIN_TOKEN, color: [255, 0, 0], width: 640, height: 360, fps: FPS, gop: 60, movingBar: true });
  const sub = await startSubscriber({ whepUrl: relay.whepUrl, token: STANDIN_TOKEN });
  try {
    await sub.waitForFrame(() => true, 10_000);
    await sleep(1000);
    const lat = await flipLatencies(pub, sub, whole, FLIPS);
    return { p50: median(lat), p95: percentile(lat, 95), samples: lat.length };
  } finally {
    await sub.close();
    await pub.close();
    await relay.close();
  }
}

/**
 * As a WHIP client does with 503 + Retry-After: the joins of a big room one right after the other keep its worker busy
 * (handshakes, decoder spawns), which admission control may answer with `worker_load` for a moment.
 */
async function retryOn503<T>(start: () => Promise<T>, untilMs = Date.now() + 60_000): Promise<T> {
  for (;;) {
    try {
      return await start();
    } catch (e) {
      if (!/answered 503/.test((e as Error).message) || Date.now() > untilMs) throw e;
      console.log(`bench: a join was refused for a moment (${(e as Error).message.slice(0, 160)}); retrying in 2 s`);
      await sleep(2000);
    }
  }
}

async function room(server: Awaited<ReturnType<typeof startServer>>, n: number, base: { p50: number; p95: number }): Promise<RoomResult> {
  const name = `bench-${n}`;
  await server.admin('POST', '/v1/rooms', { name, width: W, height: H, fps: FPS, videoBitrateKbps: KBPS });
  const pubs: Publisher[] = [];
  const subs: Subscriber[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const token = await server.token(name, `pub-${i}`);
      pubs.push(
        await retryOn503(() => startPublisher({
          whipUrl: `${server.baseUrl}/v1/rooms/${name}/whip`,
          token,
          color: i === 0 ? [255, 0, 0] : [40 + ((i * 50) % 200), 200, 40],
          toneHz: TONES[i % TONES.length],
          toneAmplitude: 0.1,
          width: 640,
          height: 360,
          fps: FPS,
          gop: 60,
          movingBar: true,
        })),
      );
    }
    // A pure viewer and publisher 1's own subscription (mix-minus), as in a meeting.
    await sleep(2000); // let the publishers' tiles settle, so the first picture is the steady-state case
    const firstPictureMs: number[] = [];
    for (const identity of ['viewer', n > 1 ? 'pub-1' : 'viewer-2']) {
      const token = await server.token(name, identity);
      const t = now();
      const sub = await startSubscriber({ whepUrl: `${server.baseUrl}/v1/rooms/${name}/whep`, token });
      subs.push(sub);
      firstPictureMs.push((await sub.waitForFrame(() => true, 15_000)).at - t);
    }
    await sleep(WARMUP_S * 1000);

    const counters = subs.map(countDownlink);
    const stats0 = ((await server.admin('GET', `/v1/rooms/${name}`)).json as { mixer: { stats: Record<string, number> } }).mixer.stats;
    const cpu0 = treeCpuSeconds(server.pid);
    const all0 = treeCpuSeconds(process.pid); // this process, its ffmpeg children and the server
    const b0 = counters.map((c) => [c.bytes(), c.videoBytes()]);
    const t0 = now();
    const latencies = await flipLatencies(pubs[0], subs[0], tileOf(n, 0), FLIPS);
    const rest = MEASURE_S * 1000 - (now() - t0);
    if (rest > 0) await sleep(rest);
    const secs = (now() - t0) / 1000;
    const cpu1 = treeCpuSeconds(server.pid);
    const all1 = treeCpuSeconds(process.pid);
    const stats1 = ((await server.admin('GET', `/v1/rooms/${name}`)).json as { mixer: { stats: Record<string, number> } }).mixer.stats;
    const kbps = counters.map((c, i) => ((c.bytes() - b0[i][0]) * 8) / secs / 1000);
    const vkbps = counters.map((c, i) => ((c.videoBytes() - b0[i][1]) * 8) / secs / 1000);
    const p50 = median(latencies);
    const p95 = percentile(latencies, 95);
    return {
      publishers: n,
      cpuCores: (cpu1.seconds - cpu0.seconds) / secs,
      serverProcesses: cpu1.processes,
      loadGeneratorCores: (all1.seconds - all0.seconds - (cpu1.seconds - cpu0.seconds)) / secs,
      latencyP50Ms: p50,
      latencyP95Ms: p95,
      latencyAboveBaselineP50Ms: p50 - base.p50,
      latencyAboveBaselineP95Ms: p95 - base.p95,
      latencySamples: latencies.length,
      downlinkKbps: kbps,
      downlinkVideoKbps: vkbps,
      downlinkVsTarget: Math.max(...vkbps.map((v) => Math.abs(v / KBPS - 1))),
      mixFps: (stats1.framesEncoded - stats0.framesEncoded) / secs,
      droppedFrames: stats1.framesDropped - stats0.framesDropped,
      mixerCounters: Object.fromEntries(Object.keys(stats1).map((k) => [k, (stats1[k] ?? 0) - (stats0[k] ?? 0)])),
      firstPictureMs,
    };
  } finally {
    await Promise.allSettled(subs.map((s) => s.close()));
    await Promise.allSettled(pubs.map((p) => p.close()));
    await server.admin('DELETE', `/v1/rooms/${name}`);
  }
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

function table(results: RoomResult[], base: { p50: number; p95: number }): string {
  const rows = [
    '| publishers | server CPU (cores) | load generators (cores) | mix latency p50 / p95 (ms) | above plain decode p50 / p95 (ms) | downlink per subscriber (kbps, video+audio) | video vs 1500 kbps | mix fps | dropped frames | first picture (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.publishers} | ${f2(r.cpuCores)} | ${f2(r.loadGeneratorCores)} | ${f1(r.latencyP50Ms)} / ${f1(r.latencyP95Ms)} | ${f1(r.latencyAboveBaselineP50Ms)} / ${f1(r.latencyAboveBaselineP95Ms)} | ${r.downlinkKbps.map((k) => k.toFixed(0)).join(', ')} | ±${(r.downlinkVsTarget * 100).toFixed(1)}% | ${f1(r.mixFps)} | ${r.droppedFrames} | ${r.firstPictureMs.map((v) => v.toFixed(0)).join(', ')} |`,
    ),
  ];
  return [
    ...rows,
    '',
    `Plain relay + decode of one publisher (the baseline): p50 ${f1(base.p50)} ms, p95 ${f1(base.p95)} ms. ` +
      `Targets for 4 publishers: ≤ 0.6 core, ≤ 150 ms p95 above the baseline; downlink within ±15% of the configured bitrate; 9 publishers hold 30 fps; a new subscriber sees a picture within 1 s.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  console.log(`bench: rooms of ${SIZES.join(', ')} publishers, ${MEASURE_S} s each; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  const base = await baseline();
  console.log(`baseline (relay + decode): p50 ${f1(base.p50)} ms, p95 ${f1(base.p95)} ms (${base.samples} flips)`);
  const server = await startServer(ROOT);
  const results: RoomResult[] = [];
  let rec: RecordingCost | undefined;
  let live: LivestreamCost | undefined;
  let adaptive: AdaptiveResult | undefined;
  let fanout: FanoutResult | undefined;
  let joinStall: JoinStallResult | undefined;
  let roomsNode: RoomsResult | undefined;
  try {
    for (const n of SIZES) {
      const r = await room(server, n, base);
      results.push(r);
      console.log(`room of ${n}: ${JSON.stringify(r)}`);
    }
    if (process.env.BENCH_RECORDING !== '0') {
      rec = await recordingCost(server, MEASURE_S);
      console.log(`recording: ${JSON.stringify(rec)}`);
    }
    if (process.env.BENCH_LIVESTREAM !== '0') {
      live = await livestreamCost(server, MEASURE_S);
      console.log(`livestream: ${JSON.stringify(live)}`);
    }
    if (process.env.BENCH_ADAPTIVE !== '0') {
      adaptive = await adaptiveDelivery(server, MEASURE_S);
      console.log(`adaptive: ${JSON.stringify(adaptive)}`);
    }
    if (process.env.BENCH_FANOUT !== '0') {
      fanout = await fanoutCost(server, MEASURE_S);
      console.log(`fanout: ${JSON.stringify(fanout)}`);
    }
    if (process.env.BENCH_JOIN_STALL !== '0') {
      joinStall = await measureJoinStall(server, { rounds: Number(process.env.BENCH_JOIN_STALL_ROUNDS ?? 3) });
      console.log(`join stall: ${JSON.stringify(joinStall)}`);
    }
    if (process.env.BENCH_ROOMS !== '0') {
      roomsNode = await roomsPerNode(server, Math.min(MEASURE_S, 10));
      console.log(`rooms per node: ${JSON.stringify(roomsNode)}`);
    }
  } finally {
    await server.stop();
  }
  let cluster: ClusterResult | undefined;
  if (process.env.BENCH_CLUSTER !== '0') {
    cluster = await clusterBench(Number(process.env.BENCH_CLUSTER_ROUNDS ?? 3));
    console.log(`cluster: ${JSON.stringify(cluster)}`);
  }
  let md = table(results, base);
  if (rec) {
    md += `\n\n| recording (MP4, video copied) in a 4-publisher room | median of 3 |\n|---|---|\n` +
      `| server CPU without / with the recording (cores) | ${f2(rec.baselineCores)} / ${f2(rec.recordingCores)} |\n` +
      `| extra CPU of the recording (target ≤ 0.05 core) | ${f2(rec.extraCores)} |\n` +
      `| stop → ready (target ≤ 2 s) | ${rec.stopToReadyMs.map((v) => `${v.toFixed(0)} ms`).join(', ')} |`;
  }
  if (live) {
    md += `\n\n| livestreaming in a 4-publisher room (video copied, audio to AAC) | median of 2 |\n|---|---|\n` +
      `| server CPU without / with one RTMP output / with HLS watched (cores) | ${f2(live.baselineCores)} / ${f2(live.rtmpCores)} / ${f2(live.hlsCores)} |\n` +
      `| extra CPU per RTMP output (target ≤ 0.05 core): server tree difference; the pusher's ffmpeg alone | ${f2(live.rtmpExtraCores)}; ${f2(live.rtmpFfmpegCores)} |\n` +
      `| extra CPU of HLS (target ≤ 0.05 core): server tree difference; the HLS ffmpeg alone | ${f2(live.hlsExtraCores)}; ${f2(live.hlsFfmpegCores)} |\n` +
      `| HLS glass to glass: colour flip → first ${live.hlsSegmentSeconds} s segment showing it listed in the playlist | ${live.hlsFlipToListedMs.map((v) => `${v.toFixed(0)} ms`).join(', ') || 'n/a'} (a player that starts 3 segments behind the live edge adds about ${3 * live.hlsSegmentSeconds} s) |`;
  }
  if (adaptive) md += `\n\n${adaptiveMarkdown(adaptive)}`;
  if (fanout) md += `\n\n${fanoutMarkdown(fanout)}`;
  if (joinStall) md += `\n\n${joinStallMarkdown(joinStall)}`;
  if (roomsNode) md += `\n\n${roomsMarkdown(roomsNode)}`;
  if (cluster) md += `\n\n${clusterMarkdown(cluster)}`;
  console.log(`\n${md}\n`);
  const out = {
    date: started.toISOString(),
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    settings: { width: W, height: H, fps: FPS, videoBitrateKbps: KBPS, publisherInput: '640x360 VP8 30 fps with a moving bar', measureSeconds: MEASURE_S },
    baseline: base,
    rooms: results,
    recording: rec,
    livestream: live,
    adaptive,
    fanout,
    joinStall,
    roomsPerNode: roomsNode,
    cluster,
  };
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(out, null, 2);
  writeFileSync(path.join(dir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`), json);
  writeFileSync(path.join(dir, 'latest.json'), json);
  const readme = path.join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const marked = `<!-- bench:start -->\nMeasured ${started.toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, by \`npm run bench\`; the load generators (publishers' encoders, subscribers' decoders) ran on the same machine.\n\n${md}\n<!-- bench:end -->`;
  writeFileSync(readme, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, marked));
  console.log(`wrote bench/results/latest.json and the table in README.md`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
