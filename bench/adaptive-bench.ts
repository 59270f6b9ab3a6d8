import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '@app/core';
import { startsKeyframe } from '@app/media';
import type { RtpPacket } from 'werift';
import { startShapedLink, type ShapedLink } from '../test/helpers/shaped-link';
import { startSubscriber, type Subscriber } from '../test/helpers/whep-subscriber';
import { startLoadedRoom } from './bench-room';
import { median, now, percentile, sleep } from './measure';
import { cpuBetween, treeCpuByPid, treeCpuSeconds } from './proc-cpu';
import type { ServerProcess } from './server-process';
import { switchingCost, type SwitchingCost } from './switching-cost';

/** One subscriber behind a shaped link (token bucket, 250 ms drop-tail queue, transport-wide-cc offered). */
export interface LinkResult {
  linkKbps: number;
  /** The server's rendition for the subscriber at the end of the window; null: video paused. */
  rendition: string | null;
  /** Every rendition seen in once-a-second samples over the window (a subscriber flapping shows several). */
  renditionsSeen: Array<string | null>;
  estimateKbps?: number;
  decodedFps: number;
  /** Video frames that arrived (distinct RTP timestamps) per second: what the rendition actually carried. */
  receivedFps: number;
  longestFreezeMs: number;
  audioRatio: number;
  videoKbps: number;
  /** Bytes dropped at the bottleneck (queue overflow) / bytes offered to it, over the window, in %. */
  droppedPercent: number;
  offeredKbps: number;
  windowMs: number;
}

export interface AdaptiveResult {
  publishers: number;
  settleSeconds: number;
  windowSeconds: number;
  links: LinkResult[];
  /** 3000 → 400 kbps: until the rendition is below high and equals the target (ms); NaN: not within 15 s. */
  adaptDownMs: number[];
  /** 400 → 4000 kbps: until the subscriber is back on high (ms); NaN: not within 40 s. */
  adaptUpMs: number[];
  /** PLI → first keyframe packet of the subscriber's rendition (ms), and PLIs with no keyframe within 2 s. */
  keyframeMs: number[];
  keyframeMedianMs: number;
  keyframeP95Ms: number;
  keyframeMissed: number;
  /** Server tree CPU (cores): one good-link viewer on high only; plus subscribers settled on medium and low. */
  highOnlyCores: number;
  withLowerRungsCores: number;
  /** Where those subscribers actually were at the end of that window (the pinning is by link rate, not forced). */
  lowerRungSubscribers: Array<string | null>;
  /** Per encoder ffmpeg (cores) over the same window, by rendition; missing: that encoder was not running. */
  encoderCores: Record<string, number>;
  /** Server tree CPU with 1 (mean of the windows before and after the 6) and with 6 viewers on the good link, and (N6 − N1) / 5. */
  oneViewerCores: number;
  sixViewersCores: number;
  perExtraSubscriberCores: number;
  /** The switching logic alone, in-process (bench/switching-cost.ts). */
  switching: SwitchingCost;
}

type SubView = { rendition: string | null; targetRendition: string | null; estimateKbps?: number };
type RenditionView = { name: string; running: boolean };

const LINKS = (process.env.BENCH_LINKS ?? '150,300,500,1000,3000').split(',').map(Number).filter((n) => n > 0);
const SETTLE_S = Number(process.env.BENCH_ADAPTIVE_SETTLE ?? 10);
const ADAPT_ROUNDS = Number(process.env.BENCH_ADAPT_ROUNDS ?? 2);
const PLIS = 20;
const QUEUE_MS = 250;

/** Counts the video frames a subscriber receives, by new RTP timestamps (independent of its decoder). */
function countVideoFrames(sub: Subscriber): { count: () => number; stop: () => void } {
  const track = sub.pc.getTransceivers().find((x) => x.kind === 'video')!.receiver.tracks[0];
  let n = 0;
  let last: number | undefined;
  const s = track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
    // only timestamps ahead of the newest seen (wrap-aware): probes and retransmissions repeat older ones
    const ts = rtp.header.timestamp;
    const ahead = last === undefined ? 1 : (ts - last) >>> 0;
    if (rtp.payload.length && ahead > 0 && ahead < 0x80000000) {
      last = ts;
      n++;
    }
  });
  return { count: () => n, stop: () => s.unSubscribe() };
}

/** Descendants of `root` (any depth) running ffmpeg, with their command lines. */
function ffmpegDescendants(root: number): Array<{ pid: number; cmd: string }> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${d}/stat`, 'utf8'));
      if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      try {
        const cmd = readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ');
        if (cmd.includes('ffmpeg')) out.push({ pid: c, cmd });
      } catch {
        /* exited meanwhile */
      }
      walk(c);
    }
  };
  walk(root);
  return out;
}

/**
 * The rendition encoders' ffmpeg processes by name: they are the ones with the keyframe-on-demand expression; a lower
 * rung scales the canvas to its size (`scale=W:H`), high encodes the canvas as it is.
 */
function encoderPids(serverPid: number, ladder: Array<{ name: string; width: number; height: number }>): Record<string, number> {
  const encoders = ffmpegDescendants(serverPid).filter((p) => p.cmd.includes('-force_key_frames'));
  const out: Record<string, number> = {};
  for (const r of ladder) {
    const e = r.name === 'high' ? encoders.find((p) => !p.cmd.includes('scale=')) : encoders.find((p) => p.cmd.includes(`scale=${r.width}:${r.height}`));
    if (e) out[r.name] = e.pid;
  }
  return out;
}

/**
 * Adaptive delivery in a 4-publisher room (1280x720 mix, default ladder): per link rate, what one subscriber behind a
 * shaped link settles on and experiences; how fast it moves down and back up when its link changes; PLI → keyframe;
 * the CPU of the lower rungs' encoders and of each extra subscriber.
 */
export async function adaptiveDelivery(server: ServerProcess, measureS: number): Promise<AdaptiveResult> {
  const name = 'bench-adaptive';
  const windowS = Math.min(measureS, 15);
  const room = await startLoadedRoom(server, name);
  const subs: Subscriber[] = [];
  const links: ShapedLink[] = [];
  const getRoom = async () =>
    (await server.admin('GET', `/v1/rooms/${name}`)).json as {
      participants: Array<{ identity: string; subscriber?: SubView }>;
      renditions: Array<{ name: string; width: number; height: number }>;
      mixer: { renditions: RenditionView[] };
    };
  const view = async (identity: string) => (await getRoom()).participants.find((p) => p.identity === identity)?.subscriber;
  /** Polls every 100 ms until `ok`; the time it took (ms), NaN on timeout. */
  const until = async (identity: string, ok: (s: SubView) => boolean, timeoutMs: number) => {
    const t0 = now();
    while (now() - t0 < timeoutMs) {
      const s = await view(identity);
      if (s && ok(s)) return now() - t0;
      await sleep(100);
    }
    return NaN;
  };
  const settled = (s: SubView) => s.rendition === s.targetRendition;
  const subscribe = async (identity: string, link?: ShapedLink) => {
    const sub = await startSubscriber({
      whepUrl: `${server.baseUrl}/v1/rooms/${name}/whep`,
      token: await server.token(name, identity, { canPublish: false }),
      sdpTransform: link?.sdpTransform,
      congestionControlFeedback: true,
    });
    subs.push(sub);
    await sub.connected();
    return sub;
  };
  const shaped = async (kbps: number) => {
    const link = await startShapedLink({ rateKbps: kbps, queueMs: QUEUE_MS });
    links.push(link);
    return link;
  };
  // leave(): DELETE the WHEP resource, so the server drops the subscriber at once (after a bare close() it keeps
  // sending to it until 15 s without RTCP, which would land in the next measurement).
  const leave = (sub: Subscriber) => sub.leave().catch(() => sub.close());
  const release = async (sub: Subscriber, link?: ShapedLink) => {
    await leave(sub).catch(() => undefined);
    subs.splice(subs.indexOf(sub), 1);
    if (link) {
      await link.close();
      links.splice(links.indexOf(link), 1);
    }
  };
  /** Lower rungs stop 5 s after their last user: wait for that, so "high only" is what it says. */
  const onlyHigh = async () => {
    for (let i = 0; i < 100; i++) {
      const running = (await getRoom()).mixer.renditions.filter((r) => r.running).map((r) => r.name);
      if (running.join() === 'high') return;
      await sleep(200);
    }
  };
  const serverCpuOver = async (seconds: number, pids: Record<string, number> = {}) => {
    const tree0 = treeCpuByPid(server.pid);
    const p0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, treeCpuSeconds(pid).seconds]));
    const t0 = now();
    await sleep(seconds * 1000);
    const secs = (now() - t0) / 1000;
    const per: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) {
      const c = treeCpuSeconds(pid);
      if (c.processes) per[k] = (c.seconds - p0[k]) / secs;
    }
    const tree1 = treeCpuByPid(server.pid);
    // the tree (processes alive at the end), and the server's Node process alone (where fan-out and estimation run)
    return { cores: cpuBetween(tree0, tree1) / secs, node: ((tree1.get(server.pid) ?? 0) - (tree0.get(server.pid) ?? 0)) / secs, per };
  };

  try {
    const ladder = (await getRoom()).renditions;

    // CPU, 1 vs 6 viewers on the good link (all on high): the room's own viewer, then 5 more with transport-wide-cc.
    await onlyHigh();
    const one = await serverCpuOver(windowS);
    const extra: Subscriber[] = [];
    for (let i = 0; i < 5; i++) extra.push(await subscribe(`fan-${i}`));
    for (let i = 0; i < 5; i++) await until(`fan-${i}`, (s) => s.rendition === 'high' && settled(s), 15_000);
    await onlyHigh(); // they started on medium: its encoder stops 5 s after the last one left it
    await sleep(1000);
    const six = await serverCpuOver(windowS);
    for (const s of extra) await release(s);

    // CPU of the lower rungs: subscribers whose links settle on medium and on low, high's viewer as before.
    await onlyHigh();
    const highOnly = await serverCpuOver(windowS, encoderPids(server.pid, ladder));
    const rungs: Array<[string, number, string]> = [['medium', 800, 'rung-medium'], ['low', 350, 'rung-low']];
    const rungSubs: Array<[Subscriber, ShapedLink, string]> = [];
    for (const [, kbps, identity] of rungs) {
      const link = await shaped(kbps);
      rungSubs.push([await subscribe(identity, link), link, identity]);
    }
    for (const [want, , identity] of rungs) await until(identity, (s) => s.rendition === want && settled(s), 25_000);
    await sleep(3000);
    const lower = await serverCpuOver(windowS, encoderPids(server.pid, ladder));
    const lowerRungSubscribers = await Promise.all(rungSubs.map(async ([, , identity]) => (await view(identity))?.rendition ?? null));
    for (const [s, l] of rungSubs) await release(s, l);

    // PLI → keyframe on high, on the good link.
    const kfSub = await subscribe('pli');
    await until('pli', (s) => s.rendition === 'high' && settled(s), 15_000);
    await sleep(2000);
    const track = kfSub.pc.getTransceivers().find((x) => x.kind === 'video')!.receiver.tracks[0];
    const codec = kfSub.videoCodec().toLowerCase().includes('vp8') ? 'vp8' : 'h264';
    let keyAt = 0;
    const rx = track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (!keyAt && rtp.payload.length && startsKeyframe(rtp.serialize(), codec)) keyAt = now();
    });
    const keyframeMs: number[] = [];
    let keyframeMissed = 0;
    for (let i = 0; i < PLIS; i++) {
      await sleep(600);
      keyAt = 0;
      const asked = now();
      kfSub.requestKeyframe();
      while (!keyAt && now() - asked < 2000) await sleep(5);
      if (keyAt) keyframeMs.push(keyAt - asked);
      else keyframeMissed++;
    }
    rx.unSubscribe();
    await release(kfSub);

    // Each link rate: a fresh subscriber, settle, measure.
    const linkResults: LinkResult[] = [];
    for (const kbps of LINKS) {
      const identity = `link-${kbps}`;
      const link = await shaped(kbps);
      const sub = await subscribe(identity, link);
      const frames = countVideoFrames(sub);
      await sleep(SETTLE_S * 1000);
      const before = link.stats().downlink;
      const frames0 = frames.count();
      const t0 = now();
      const seen = new Set<string | null>();
      while (now() - t0 < windowS * 1000) {
        seen.add((await view(identity))?.rendition ?? null);
        await sleep(1000);
      }
      const windowMs = now() - t0;
      const sentFps = ((frames.count() - frames0) * 1000) / windowMs;
      frames.stop();
      const after = link.stats().downlink;
      const q = sub.quality(windowMs);
      const v = await view(identity);
      const offered = after.offeredBytes - before.offeredBytes;
      const dropped = after.droppedQueueBytes + after.droppedLossBytes - (before.droppedQueueBytes + before.droppedLossBytes);
      linkResults.push({
        linkKbps: kbps,
        rendition: v?.rendition ?? null,
        renditionsSeen: [...seen],
        estimateKbps: v?.estimateKbps,
        decodedFps: q.decodedFps,
        receivedFps: sentFps,
        longestFreezeMs: q.longestFreezeMs,
        audioRatio: q.audioRatio,
        videoKbps: q.videoKbps,
        droppedPercent: offered ? (100 * dropped) / offered : 0,
        offeredKbps: (offered * 8) / windowMs,
        windowMs,
      });
      console.log(`adaptive: ${kbps} kbps link: ${JSON.stringify(linkResults[linkResults.length - 1])}`);
      await release(sub, link);
    }

    // Time to adapt: 3000 → 400 kbps until below high (and on its target), then 400 → 4000 until back on high.
    const adaptDownMs: number[] = [];
    const adaptUpMs: number[] = [];
    {
      const link = await shaped(3000);
      const sub = await subscribe('adapt', link);
      for (let round = 0; round < ADAPT_ROUNDS; round++) {
        link.setRateKbps(3000);
        await until('adapt', (s) => s.rendition === 'high' && settled(s), 30_000);
        await sleep(3000);
        link.setRateKbps(400);
        adaptDownMs.push(await until('adapt', (s) => s.rendition !== 'high' && settled(s), 15_000));
        await sleep(3000);
        link.setRateKbps(4000);
        adaptUpMs.push(await until('adapt', (s) => s.rendition === 'high' && settled(s), 40_000));
        console.log(`adaptive: round ${round + 1}: down ${adaptDownMs[round].toFixed(0)} ms, up ${adaptUpMs[round].toFixed(0)} ms`);
      }
      await release(sub, link);
    }

    return {
      publishers: room.pubs.length,
      settleSeconds: SETTLE_S,
      windowSeconds: windowS,
      links: linkResults,
      adaptDownMs,
      adaptUpMs,
      keyframeMs,
      keyframeMedianMs: median(keyframeMs),
      keyframeP95Ms: percentile(keyframeMs, 95),
      keyframeMissed,
      highOnlyCores: highOnly.cores,
      withLowerRungsCores: lower.cores,
      lowerRungSubscribers,
      encoderCores: lower.per,
      oneViewerCores: (one.node + highOnly.node) / 2,
      sixViewersCores: six.node,
      perExtraSubscriberCores: (six.node - (one.node + highOnly.node) / 2) / 5,
      switching: switchingCost(),
    };
  } finally {
    await Promise.allSettled(subs.map(leave));
    await Promise.allSettled(links.map((l) => l.close()));
    await room.close();
  }
}

const f0 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(0) : 'n/a');
const f1 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const f3 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const ms = (v: number[]) => v.map((x) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'not reached')).join(', ') || 'n/a';

/** The links table and the adapt / keyframe / CPU table, with the targets next to them. */
export function adaptiveMarkdown(a: AdaptiveResult): string {
  const enc = a.encoderCores;
  const lowerEnc = (enc.medium ?? NaN) + (enc.low ?? NaN);
  return [
    `Adaptive delivery in a 4-publisher room: one subscriber (transport-wide-cc) behind a shaped link (token bucket, ${QUEUE_MS} ms drop-tail queue), ${a.settleSeconds} s to settle, then ${a.windowSeconds} s measured.`,
    '',
    '| link kbps | rendition | decoded fps | longest freeze ms | audio | video kbps | dropped at bottleneck % |',
    '|---|---|---|---|---|---|---|',
    ...a.links.map((l) => {
      const seen = l.renditionsSeen.filter((r) => r !== l.rendition).map((r) => r ?? 'paused');
      return `| ${l.linkKbps} | ${l.rendition ?? 'paused'}${seen.length ? ` (also ${seen.join(', ')})` : ''} | ${f1(l.decodedFps)} (${f1(l.receivedFps)} received) | ${f0(l.longestFreezeMs)} | ${f0(l.audioRatio * 100)} % | ${f0(l.videoKbps)} | ${f1(l.droppedPercent)} |`;
    }),
    '',
    'Targets: on a weak link (300–1000 kbps) ≥ 15 fps, longest freeze ≤ 1 s, audio ≥ 90 %, ≤ 5 % dropped at the bottleneck; at 150 kbps the video may pause but audio stays ≥ 90 %.',
    '',
    '| adaptive delivery | measured | target |',
    '|---|---|---|',
    `| time to adapt down: link 3000 → 400 kbps until below high | ${ms(a.adaptDownMs)} | ≤ 2 s |`,
    `| time to adapt up: link 400 → 4000 kbps until back on high | ${ms(a.adaptUpMs)} | ≤ 20 s |`,
    `| PLI → first keyframe packet, on high (${a.keyframeMs.length} of ${a.keyframeMs.length + a.keyframeMissed}) median / p95 | ${f1(a.keyframeMedianMs)} / ${f1(a.keyframeP95Ms)} ms | median ≤ 150 ms |`,
    `| server CPU, a viewer on high only / plus subscribers on ${a.lowerRungSubscribers.map((r) => r ?? 'paused').join(' and ')} (cores) | ${f2(a.highOnlyCores)} / ${f2(a.withLowerRungsCores)} | |`,
    `| extra CPU of medium + low: server tree difference (includes two subscribers); the encoders' ffmpeg alone (medium ${f2(enc.medium)}, low ${f2(enc.low)}; high ${f2(enc.high)}) | ${f2(a.withLowerRungsCores - a.highOnlyCores)}; ${f2(lowerEnc)} | ≤ 0.1 core |`,
    `| per extra subscriber, end to end (fan-out + estimation): the server's Node process with 6 viewers on high − with 1, ÷ 5 (${f2(a.sixViewersCores)} − ${f2(a.oneViewerCores)} cores; below this machine's noise) | ${f3(a.perExtraSubscriberCores)} core | |`,
    `| per subscriber, the switching logic alone (in-process: ${f1(a.switching.updateMicros)} µs per 200 ms decision, ${f2(a.switching.packetMicros)} µs per packet renumbered and metered) | ${a.switching.coresPerSubscriber.toFixed(5)} core | |`,
  ].join('\n');
}
