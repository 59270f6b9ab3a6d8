/**
 * Fan-out micro-benchmark: what one more viewer of the mix costs the server's Node process.
 *
 * This process plays the server: N werift peers made as the server makes a WHEP subscriber's (peer-factory: VP8 + RTX +
 * Opus, transport-wide-cc), each driven by our Subscriber, fed with a synthetic 1.5 Mbps "rendition" (30 fps, 1200-byte
 * VP8 RTP packets, a keyframe every 2 s) and 50 Opus packets a second. The N receiving peers (werift, recvonly, sending
 * transport-wide feedback every 100 ms like a browser) run in a child process, so that their CPU does not count here.
 *
 * It measures this process's CPU (process.cpuUsage) over a window with no viewers (the generator alone) and over a
 * window with N viewers, and reports (cpu_N - cpu_0) / N as the cost of a viewer, with what each receiver got.
 *
 *   npm run build && node dist/bench/fanout-micro.js [viewers=40] [seconds=10]
 *   FANOUT_PROF=1: also print the hottest functions of the window (a CPU profile through node:inspector)
 *   FANOUT_SRTP=aesCm: offer only AES_CM_128_HMAC_SHA1_80, the profile Chrome viewers negotiate with the server (the
 *   werift receivers here take GCM, werift's first choice, when it is offered); gcm: GCM only; werift (default): both.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import type { RtpPacket } from 'werift';
import { answerOffer, codecs, createPeer, SRTP_PROFILES, subscriberExtensions, Subscriber } from '@app/media';
import { createPeer as createClientPeer, vp8Codec, opusCodec, whenConnected } from '../test/helpers/webrtc-peer';
import { TwccReceiver } from '../test/helpers/twcc-feedback';
import { useTransportWideCC, useTWCC } from 'werift';

const VIDEO_KBPS = 1500;
const FPS = 30;
const PACKET = 1200;
const TWCC_EXTENSION_ID = 3;

type ToChild = { t: 'make'; n: number } | { t: 'answer'; i: number; sdp: string } | { t: 'stats' } | { t: 'quit' };
type ToParent = { t: 'offer'; i: number; sdp: string } | { t: 'connected'; n: number } | { t: 'failed'; i: number } | { t: 'stats'; viewers: ViewerStats[] };
interface ViewerStats {
  videoBytes: number;
  videoPackets: number;
  audioPackets: number;
  dead?: boolean;
}

// ---------------------------------------------------------------- child: the receivers
async function child(): Promise<void> {
  const send = (m: ToParent) => process.send!(m);
  const viewers: Array<{ stats: ViewerStats; pc: ReturnType<typeof createClientPeer>; apply: (sdp: string) => Promise<void> }> = [];
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.t === 'make') {
        for (let i = 0; i < m.n; i++) {
          const withTwcc = <T extends { rtcpFeedback: unknown[] }>(c: T): T => ((c.rtcpFeedback = [...c.rtcpFeedback, useTWCC()]), c);
          const pc = createClientPeer({ video: [withTwcc(vp8Codec())], audio: [withTwcc(opusCodec())] });
          pc.setConfiguration({ headerExtensions: { audio: [useTransportWideCC()], video: [useTransportWideCC()] } });
          for (const e of [...(pc.config.headerExtensions.audio ?? []), ...(pc.config.headerExtensions.video ?? [])]) e.id = TWCC_EXTENSION_ID;
          const videoTx = pc.addTransceiver('video', { direction: 'recvonly' });
          const audioTx = pc.addTransceiver('audio', { direction: 'recvonly' });
          for (const tx of [videoTx, audioTx]) (tx.receiver as unknown as { setupTWCC: () => void }).setupTWCC = () => undefined;
          const stats: ViewerStats = { videoBytes: 0, videoPackets: 0, audioPackets: 0 };
          const twcc = new TwccReceiver();
          let videoSsrc: number | undefined;
          const note = (rtp: RtpPacket) => {
            const ext = rtp.header.extensions.find((e) => e.id === TWCC_EXTENSION_ID);
            if (ext && ext.payload.length >= 2) twcc.received(ext.payload.readUInt16BE(0), performance.now() * 1000);
          };
          videoTx.onTrack.subscribe((track) =>
            track.onReceiveRtp.subscribe((rtp) => {
              videoSsrc = rtp.header.ssrc;
              stats.videoPackets++;
              stats.videoBytes += rtp.serializeSize;
              note(rtp);
            }),
          );
          audioTx.onTrack.subscribe((track) =>
            track.onReceiveRtp.subscribe((rtp) => {
              stats.audioPackets++;
              note(rtp);
            }),
          );
          setInterval(() => {
            const fb = videoSsrc !== undefined && pc.connectionState === 'connected' ? twcc.feedback(1, videoSsrc) : undefined;
            if (fb) void videoTx.receiver.dtlsTransport.sendRtcp([{ serialize: () => fb } as never]).catch(() => undefined);
          }, 100).unref();
          await pc.setLocalDescription(await pc.createOffer());
          if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
          viewers.push({ stats, pc, apply: (sdp) => pc.setRemoteDescription({ type: 'answer', sdp }) });
          send({ t: 'offer', i: viewers.length - 1, sdp: pc.localDescription!.sdp });
        }
      } else if (m.t === 'answer') {
        const v = viewers[m.i];
        await v.apply(m.sdp);
        try {
          await whenConnected(v.pc, 15000);
        } catch {
          // (werift's handshakes sometimes stall on a loaded machine: the parent drops this one and asks for another)
          void v.pc.close();
          v.stats.dead = true;
          send({ t: 'failed', i: m.i });
          return;
        }
        send({ t: 'connected', n: viewers.filter((x) => x.pc.connectionState === 'connected').length });
      } else if (m.t === 'stats') {
        send({ t: 'stats', viewers: viewers.map((v) => ({ ...v.stats })) });
      } else if (m.t === 'quit') {
        process.exit(0);
      }
    })().catch((e) => {
      console.error('receiver child:', e);
      process.exit(1);
    });
  });
}

// ---------------------------------------------------------------- parent: the server side
function vp8Packet(seq: number, ts: number, size: number, start: boolean, key: boolean, marker: boolean): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(0x12345678, 8);
  b[12] = start ? 0x10 : 0x00; // VP8 descriptor: S bit on a frame's first packet
  if (start) b[13] = key ? 0x00 : 0x01; // VP8 payload header: P bit clear on a keyframe
  for (let i = 14; i < size; i++) b[i] = (i * 31 + seq) & 0xff;
  return b;
}

/** Pushes 1.5 Mbps of video and 50 Opus packets a second to `sink` until stopped. */
function generator(sink: { video: (p: Buffer, keyStart: boolean) => void; audio: (p: Buffer) => void }): () => void {
  const frameBytes = Math.round((VIDEO_KBPS * 1000) / 8 / FPS);
  const opus = Buffer.alloc(120, 0x55);
  let seq = 0;
  let frame = 0;
  let audio = 0;
  const t0 = performance.now();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const elapsed = performance.now() - t0;
    while (frame * (1000 / FPS) <= elapsed) {
      const key = frame % (2 * FPS) === 0;
      let left = frameBytes;
      let first = true;
      while (left > 0) {
        const size = Math.min(PACKET, left + 12);
        left -= size - 12;
        sink.video(vp8Packet(seq++, frame * 3000, size, first, key, left <= 0), first && key);
        first = false;
      }
      frame++;
    }
    while (audio * 20 <= elapsed) {
      sink.audio(opus);
      audio++;
    }
    setTimeout(tick, 5);
  };
  tick();
  return () => {
    stopped = true;
  };
}

/** Cores used over a window of `seconds`: in all, and in the kernel (on loopback, the UDP sends' syscalls also deliver). */
async function window(seconds: number): Promise<{ cores: number; sys: number }> {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const u = process.cpuUsage(u0);
  const wall = (performance.now() - t0) / 1000;
  return { cores: (u.user + u.system) / 1e6 / wall, sys: u.system / 1e6 / wall };
}

async function parent(): Promise<void> {
  const srtp = (process.env.FANOUT_SRTP ?? 'werift') as keyof typeof SRTP_PROFILES;
  if (!(srtp in SRTP_PROFILES)) throw new Error(`FANOUT_SRTP: one of ${Object.keys(SRTP_PROFILES).join(', ')}`);
  const n = Number(process.argv[2] ?? 40);
  const seconds = Number(process.argv[3] ?? 10);
  const receivers: ChildProcess = fork(__filename, ['--receivers'], { stdio: 'inherit' });
  const subs: Subscriber[] = [];
  const waiting = new Map<string, (m: ToParent) => void>();
  let connected = 0;
  let failed = 0;
  receivers.on('message', (m: ToParent) => {
    if (m.t === 'offer') {
      void (async () => {
        const pc = createPeer({ loopback: true }, [codecs.vp8(true), codecs.rtx('vp8')], [codecs.opus()], subscriberExtensions(), {
          srtpProfiles: SRTP_PROFILES[srtp],
        });
        const videoSender = pc.addTransceiver('video', { direction: 'sendonly' }).sender;
        const audioSender = pc.addTransceiver('audio', { direction: 'sendonly' }).sender;
        const answer = await answerOffer(pc, m.sdp);
        subs.push(
          new Subscriber({
            id: `v${m.i}`,
            identity: `viewer-${m.i}`,
            pc,
            videoSender,
            audioSender,
            ladder: [{ name: 'high', width: 1280, height: 720, bitrateKbps: VIDEO_KBPS, fps: FPS }],
            renditions: { acquire: () => undefined, release: () => undefined, requestKeyframe: () => undefined },
            audioKbps: 48,
            // transport-wide feedback is negotiated, read and tracked as usual; the controller is told it is not so that it
            // starts on high (with it, it starts from a 1000 kbps guess below the single rung and never gets video to probe with)
            twcc: false,
          }),
        );
        receivers.send({ t: 'answer', i: m.i, sdp: answer } satisfies ToChild);
      })();
    } else if (m.t === 'connected') connected = m.n;
    else if (m.t === 'failed') {
      const k = subs.findIndex((x) => x.id === `v${m.i}`);
      if (k >= 0) subs.splice(k, 1)[0].close('connection_lost');
      failed++;
    }
    else waiting.get(m.t)?.(m);
  });
  const ask = <T extends ToParent>(t: 'stats'): Promise<T> =>
    new Promise((resolve) => {
      waiting.set(t, (m) => resolve(m as T));
      receivers.send({ t } satisfies ToChild);
    });

  const stop = generator({
    video: (p, k) => {
      for (const s of subs) s.sendVideo('high', p, k);
    },
    audio: (p) => {
      for (const s of subs) s.sendAudio(p);
    },
  });
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await window(Math.min(5, seconds));

  // one at a time: werift's DTLS handshakes time out when dozens start at once on a busy machine
  for (let i = 0; i < n; i++) {
    const failures = failed;
    receivers.send({ t: 'make', n: 1 } satisfies ToChild);
    const deadline = performance.now() + 20_000;
    while (connected <= i && failed === failures && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (failed !== failures && failed < 5) i--;
    else if (connected <= i) throw new Error(`only ${connected} of ${n} viewers connected`);
  }
  await new Promise((r) => setTimeout(r, 3000)); // keyframe, first feedback, settle
  const before = (await ask<{ t: 'stats'; viewers: ViewerStats[] }>('stats')).viewers.filter((v) => !v.dead);
  const profiler = process.env.FANOUT_PROF ? await startProfile() : undefined;
  const t0 = performance.now();
  const loaded = await window(seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const profile = await profiler?.();
  const after = (await ask<{ t: 'stats'; viewers: ViewerStats[] }>('stats')).viewers.filter((v) => !v.dead);
  stop();

  const kbps = after.map((a, i) => ((a.videoBytes - before[i].videoBytes) * 8) / elapsed / 1000);
  const audioPps = after.map((a, i) => (a.audioPackets - before[i].audioPackets) / elapsed);
  const sorted = [...kbps].sort((a, b) => a - b);
  const perViewer = (loaded.cores - idle.cores) / n;
  const delivery = subs.reduce(
    (t, s) => {
      const st = s.stats();
      return { rtx: t.rtx + st.retransmissions, nacks: t.nacks + st.nacksReceived, probes: t.probes + st.probePacketsOut };
    },
    { rtx: 0, nacks: 0, probes: 0 },
  );
  const profiles = subs.map((s) => (s.pc.dtlsTransports[0] as unknown as { srtp?: { localContext?: { profile: number } } }).srtp?.localContext?.profile);
  const result = {
    viewers: n,
    srtp: [...new Set(profiles.map((p) => (p === 1 ? 'AES_CM_128_HMAC_SHA1_80' : p === 7 ? 'AEAD_AES_128_GCM' : String(p))))],
    seconds,
    idleCores: +idle.cores.toFixed(4),
    loadedCores: +loaded.cores.toFixed(4),
    corePerViewer: +perViewer.toFixed(5),
    kernelCorePerViewer: +((loaded.sys - idle.sys) / n).toFixed(5),
    viewersPerCore: Math.round(1 / perViewer),
    receivedVideoKbps: { min: +sorted[0].toFixed(0), median: +sorted[Math.floor(n / 2)].toFixed(0), max: +sorted[n - 1].toFixed(0) },
    audioPacketsPerSecondMin: +Math.min(...audioPps).toFixed(1),
    renditions: [...new Set(subs.map((s) => s.quality.rendition))],
    ...delivery,
  };
  console.log(JSON.stringify(result));
  if (profile) console.log(profile);
  receivers.send({ t: 'quit' } satisfies ToChild);
  for (const s of subs) s.close('connection_lost');
  setTimeout(() => process.exit(0), 500).unref();
}

const keyOf = (f: { functionName: string; url: string; lineNumber: number }) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;

/** Starts the V8 CPU profiler; the returned function stops it and returns the top self-time functions as text. */
async function startProfile(): Promise<() => Promise<string>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as {
      profile: { nodes: Array<{ id: number; children?: number[]; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples: number[] };
    };
    session.disconnect();
    const count = new Map<number, number>();
    for (const s of profile.samples) count.set(s, (count.get(s) ?? 0) + 1);
    const byFn = new Map<string, number>();
    for (const node of profile.nodes) {
      const c = count.get(node.id) ?? 0;
      if (!c) continue;
      const key = keyOf(node.callFrame);
      byFn.set(key, (byFn.get(key) ?? 0) + c);
    }
    // inclusive: a function's samples and its callees' (counted once per stack even if it recurses)
    const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
    const incl = new Map<string, number>();
    const walk = (id: number, onStack: Set<string>) => {
      const nd = byId.get(id)!;
      const key = keyOf(nd.callFrame);
      const fresh = !onStack.has(key);
      if (fresh) onStack.add(key);
      const c = count.get(id) ?? 0;
      for (const k of onStack) incl.set(k, (incl.get(k) ?? 0) + c);
      for (const ch of nd.children ?? []) walk(ch, onStack);
      if (fresh) onStack.delete(key);
    };
    walk(profile.nodes[0].id, new Set());
    const total = profile.samples.length;
    const top = (m: Map<string, number>) =>
      [...m.entries()]
        .filter(([k]) => !/^\((root|idle|program)\)/.test(k))
        .sort((a, b) => b[1] - a[1])
        .slice(0, 30)
        .map(([k, c]) => `${((100 * c) / total).toFixed(1).padStart(5)} %  ${k}`)
        .join('\n');
    return `self:\n${top(byFn)}\ninclusive:\n${top(incl)}`;
  };
}

if (process.argv.includes('--receivers')) void child();
else
  parent().catch((e) => {
    console.error(e);
    process.exit(1);
  });
