import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { gridLayout } from '@app/core';
import { freePort } from '@app/jobs';
import { playlistSegments } from '@app/media';
import { insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type ColorName, type Rgb } from '../test/helpers/media-probe';
import { cpuOver, startLoadedRoom } from './bench-room';
import { median, now, sleep } from './measure';
import { childWith, treeCpuSeconds } from './proc-cpu';
import type { ServerProcess } from './server-process';

export interface LivestreamCost {
  publishers: number;
  baselineCores: number;
  rtmpCores: number;
  /** Extra server CPU of one RTMP output (video copied, Opus → AAC), median of rounds. */
  rtmpExtraCores: number;
  hlsCores: number;
  /** Extra server CPU of the HLS output (video copied, Opus → AAC, 1 s segments), median of rounds. */
  hlsExtraCores: number;
  /** CPU of the RTMP pusher's own ffmpeg and of the HLS ffmpeg (cores): robust to the noise of a shared machine. */
  rtmpFfmpegCores: number;
  hlsFfmpegCores: number;
  /** A colour flip at a publisher → the first HLS segment showing it is listed in the playlist (ms), per flip. */
  hlsFlipToListedMs: number[];
  /** The HLS segment duration (s); a player starting 3 segments behind the live edge, as players do, adds 3 of them. */
  hlsSegmentSeconds: number;
}

const W = 1280;
const H = 720;

/** The colour of publisher 0's tile in the last frame of a TS segment. */
function lastFrameTile0(ts: Buffer): ColorName | undefined {
  const w = 64;
  const h = 36;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-an', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: ts, maxBuffer: 64 * 1024 * 1024 });
  const size = w * h * 3;
  if (r.status !== 0 || r.stdout.length < size) return undefined;
  const last = r.stdout.subarray(r.stdout.length - size);
  const t = gridLayout(4, W, H)[0];
  return nearestNamedColor(meanColor({ rgb: last, width: w, height: h }, insetRect({ x: (t.x * w) / W, y: (t.y * h) / H, w: (t.w * w) / W, h: (t.h * h) / H }, 0.3)));
}

/**
 * Server-tree CPU of a 4-publisher room (1280x720 H.264 mix, a WHEP viewer) alone, with one RTMP output to a local
 * receiver, and with HLS being watched; then the HLS glass-to-glass delay: a colour flip at a publisher until the
 * first segment that shows it is listed in the playlist a viewer polls.
 */
export async function livestreamCost(server: ServerProcess, measureS: number, rounds = 2, flips = 4): Promise<LivestreamCost> {
  const name = 'bench-live';
  const room = await startLoadedRoom(server, name);
  const pubs = room.pubs;
  const port = await freePort();
  // The RTMP receiver runs in this process tree (not the server's): it copies to nowhere. Each push that ends also
  // ends ffmpeg's listener, so it listens again every time it exits, until the round is over.
  let rx: ChildProcess | undefined;
  let listening = true;
  const listen = () => {
    rx = spawn('ffmpeg', ['-v', 'error', '-listen', '1', '-timeout', '600', '-i', `rtmp://127.0.0.1:${port}/live/bench`, '-c', 'copy', '-f', 'null', '-'], { stdio: 'ignore' });
    rx.once('exit', () => listening && listen());
  };
  listen();
  const ffmpegCpu: Record<'rtmp' | 'hls', number[]> = { rtmp: [], hls: [] };
  /** The server tree's cores over `seconds`, and those of the output's own ffmpeg. */
  const cpuWith = async (seconds: number, output: 'rtmp' | 'hls') => {
    const pid = childWith(server.pid, ['ffmpeg', output === 'rtmp' ? '-f flv' : '-f hls']);
    const f0 = pid ? treeCpuSeconds(pid).seconds : 0;
    const t0 = now();
    const cores = await cpuOver(server.pid, seconds);
    if (pid) ffmpegCpu[output].push((treeCpuSeconds(pid).seconds - f0) / ((now() - t0) / 1000));
    return cores;
  };
  const viewerToken = await server.token(name, 'hls-viewer', { canPublish: false });
  const playlist = async () => {
    const r = await fetch(`${server.baseUrl}/v1/rooms/${name}/hls/index.m3u8?token=${viewerToken}`);
    return r.status === 200 ? await r.text() : '';
  };
  let watching = false;
  const watch = async () => {
    // A viewer's player: fetch the playlist and each new segment, once a second.
    const fetched = new Set<string>();
    while (watching) {
      const segs = playlistSegments(await playlist());
      for (const s of segs.filter((x) => !fetched.has(x))) {
        fetched.add(s);
        await fetch(`${server.baseUrl}/v1/rooms/${name}/hls/${s}`).then((r) => r.arrayBuffer());
      }
      await sleep(1000);
    }
  };
  try {
    const base: number[] = [];
    const rtmp: number[] = [];
    const hls: number[] = [];
    for (let round = 0; round < rounds; round++) {
      base.push(await cpuOver(server.pid, measureS / 2));
      const ls = (await server.admin('POST', `/v1/rooms/${name}/livestreams`, { url: `rtmp://127.0.0.1:${port}/live/bench` })).json as { id: string };
      for (let i = 0; i < 100 && ((await server.admin('GET', `/v1/livestreams/${ls.id}`)).json as { status: string }).status !== 'active'; i++) await sleep(200);
      await sleep(2000);
      rtmp.push(await cpuWith(measureS / 2, 'rtmp'));
      await server.admin('DELETE', `/v1/livestreams/${ls.id}`);
      await sleep(1000);
      watching = true;
      const w = watch();
      await sleep(4000);
      hls.push(await cpuWith(measureS / 2, 'hls'));
      watching = false;
      await w;
      await server.admin('DELETE', `/v1/rooms/${name}/hls`);
      await sleep(1000);
    }

    // Glass to glass: flip publisher 0's colour, poll the playlist every 100 ms, decode each newly listed segment.
    const delays: number[] = [];
    await playlist();
    await sleep(4000);
    const seen = new Set(playlistSegments(await playlist()));
    for (let i = 0; i < flips; i++) {
      const want: ColorName = i % 2 === 0 ? 'blue' : 'red';
      const t0 = pubs[0].setColor(NAMED_COLORS[want] as Rgb);
      const deadline = t0 + 15_000;
      while (performance.now() < deadline) {
        const fresh = playlistSegments(await playlist()).filter((l) => !seen.has(l));
        let found = false;
        for (const s of fresh) {
          seen.add(s);
          const listedAt = performance.now();
          const ts = Buffer.from(await (await fetch(`${server.baseUrl}/v1/rooms/${name}/hls/${s}`)).arrayBuffer());
          if (lastFrameTile0(ts) === want) {
            delays.push(listedAt - t0);
            found = true;
            break;
          }
        }
        if (found) break;
        await sleep(100);
      }
      await sleep(2500);
    }
    const b = median(base);
    return {
      publishers: 4,
      baselineCores: b,
      rtmpCores: median(rtmp),
      rtmpExtraCores: median(rtmp) - b,
      hlsCores: median(hls),
      hlsExtraCores: median(hls) - b,
      rtmpFfmpegCores: median(ffmpegCpu.rtmp),
      hlsFfmpegCores: median(ffmpegCpu.hls),
      hlsFlipToListedMs: delays,
      hlsSegmentSeconds: 1,
    };
  } finally {
    watching = false;
    listening = false;
    rx?.kill('SIGKILL');
    await room.close();
  }
}
