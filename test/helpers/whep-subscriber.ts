/**
 * A WHEP subscriber: a werift peer (recvonly audio + video) whose video is assembled into frames, decoded by an
 * ffmpeg child into small rgb24 frames, and whose Opus audio is decoded in-process (opusscript) into a 10 s ring
 * of mono 48 kHz PCM. Also records RTP continuity per track.
 */
import { performance } from 'node:perf_hooks';
import OpusScript from 'opusscript';
import {
  useAbsSendTime,
  useTransportWideCC,
  useTWCC,
  type GenericNack,
  type MediaStreamTrack,
  type RTCPeerConnection,
  type RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  type RtpPacket,
} from 'werift';
import { spawnFfmpeg, type TrackedChild } from './ffmpeg-children';
import type { RgbFrame } from './media-probe';
import { signalWithSdpTransform, type SdpTransform } from './shaped-link';
import { ViewerQualityRecorder, type ViewerQuality } from './viewer-quality';
import { TwccReceiver } from './twcc-feedback';
import {
  FrameAssembler,
  RtpContinuity,
  ivfFrame,
  tsDiff,
  ivfHeader,
  type AssembledFrame,
  type AssemblerStats,
  type ContinuityStats,
  type VideoCodec,
} from './rtp-frames';
import {
  createPeer,
  deleteThenClose,
  h264Codec,
  opusCodec,
  settleBeforeClose,
  vp8Codec,
  whenConnected,
  type PeerNetworkOptions,
} from './webrtc-peer';
import { withDtlsRetry } from './session-retry';

export interface SubscriberOptions extends PeerNetworkOptions {
  whepUrl: string;
  token: string;
  /** Size the decoder scales every frame to (default 320x180). */
  decodeWidth?: number;
  decodeHeight?: number;
  /** Seconds of audio kept (default 10). */
  audioSeconds?: number;
  /** Sequence numbers that go back by at most this many count as reordering, not as a jump (default 128). */
  reorderWindow?: number;
  /**
   * Rewrites the offer before the POST and the answer before it is applied, e.g. a ShapedLink's `sdpTransform` so
   * the media goes through that link (default: none).
   */
  sdpTransform?: SdpTransform;
  /**
   * Offer congestion-control feedback like a browser: the transport-wide-cc header extension (same id 3 on audio and
   * video, as Chrome), abs-send-time on video, and `transport-cc` rtcp-fb on every codec besides nack/pli/goog-remb,
   * so a server may negotiate TWCC and get werift's TWCC feedback (default false: as before).
   */
  congestionControlFeedback?: boolean;
}

export interface DecodedFrame extends RgbFrame {
  /** performance.now() when the decoded frame came out of ffmpeg. */
  at: number;
  /** 1-based count of decoded frames. */
  index: number;
}

export interface SubscriberStats {
  video: ContinuityStats;
  audio: ContinuityStats;
  assembler: AssemblerStats;
  framesDecoded: number;
  plisSent: number;
  audioPackets: number;
  audioDecodeErrors: number;
  /** Audio packets older than what was already played out (dropped), and samples of silence put in for gaps. */
  audioLatePackets: number;
  audioConcealedSamples: number;
  /** RTCP NACK packets sent for video, and the sequence numbers they asked for (werift repeats them every 5 ms). */
  nacksSent: number;
  nackedPackets: number;
  /** Decoder exits/spawn errors with their stderr tail. */
  errors: string[];
}

export interface Subscriber {
  readonly resourceUrl: string;
  readonly pc: RTCPeerConnection;
  connected(): Promise<void>;
  latestFrame(): DecodedFrame | undefined;
  /** The latest frame if it matches, else the first later frame that does; rejects after `timeoutMs`. */
  waitForFrame(pred: (f: DecodedFrame) => boolean, timeoutMs: number): Promise<DecodedFrame>;
  /**
   * The last `seconds` of received audio (or less if less was received), mono 48 kHz, -1..1. Lost packets and
   * DTX gaps (up to 1 s) are filled with silence using the RTP timestamps, so the ring stays aligned with time.
   */
  audio(seconds: number): Float32Array;
  stats(): SubscriberStats;
  /** What the viewer experienced over the last `windowMs` (default 2000): fps, freezes, audio, kbps, NACK/PLI. */
  quality(windowMs?: number): ViewerQuality;
  /** Negotiated video mimeType, e.g. 'video/H264' ('' before the answer). */
  videoCodec(): string;
  /** Request a keyframe now. */
  requestKeyframe(): void;
  /** DELETE the WHEP resource, then close. Resolves to the DELETE status. */
  leave(): Promise<number>;
  close(): Promise<void>;
}

const SAMPLE_RATE = 48000;
/** The id our offer gives the transport-wide-cc header extension (as Chrome does). */
const TWCC_EXTENSION_ID = 3;
const AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]); // H.264 access unit delimiter: lets ffmpeg's parser end a frame now

/** Starts a session; one whose DTLS handshake stalls is started afresh once (see session-retry.ts). */
export function startSubscriber(opts: SubscriberOptions): Promise<Subscriber> {
  return withDtlsRetry(() => startSubscriberOnce(opts), `subscriber ${opts.whepUrl}`);
}

async function startSubscriberOnce(opts: SubscriberOptions): Promise<Subscriber> {
  const W = opts.decodeWidth ?? 320;
  const H = opts.decodeHeight ?? 180;
  const frameBytes = W * H * 3;
  const ring = new Float32Array(Math.round((opts.audioSeconds ?? 10) * SAMPLE_RATE));
  let ringPos = 0;
  let ringFilled = 0;

  const videoCont = new RtpContinuity(opts.reorderWindow);
  const audioCont = new RtpContinuity(opts.reorderWindow);
  const stats = {
    framesDecoded: 0,
    plisSent: 0,
    audioPackets: 0,
    audioDecodeErrors: 0,
    audioLatePackets: 0,
    audioConcealedSamples: 0,
    nacksSent: 0,
    nackedPackets: 0,
    errors: [] as string[],
  };
  const quality = new ViewerQualityRecorder(performance.now());
  let assembler: FrameAssembler | undefined;
  let decoder: TrackedChild | undefined;
  let decoderCodec: VideoCodec | undefined;
  let latest: DecodedFrame | undefined;
  let waiters: Array<(f: DecodedFrame | undefined) => void> = [];
  let videoSsrc: number | undefined;
  let lastPliAt = -Infinity;
  let closed = false;
  let isConnected = false;
  const opus = new OpusScript(SAMPLE_RATE, 1);

  const cc = opts.congestionControlFeedback ?? false;
  const withTwcc = (c: RTCRtpCodecParameters): RTCRtpCodecParameters => {
    if (cc) c.rtcpFeedback = [...c.rtcpFeedback, useTWCC()];
    return c;
  };
  const pc = createPeer({ video: [h264Codec(), vp8Codec()].map(withTwcc), audio: [opusCodec()].map(withTwcc) }, opts);
  if (cc) {
    pc.setConfiguration({
      headerExtensions: { audio: [useTransportWideCC()], video: [useAbsSendTime(), useTransportWideCC()] },
    });
    // werift numbers extensions by list position (audio first); a BUNDLE wants one id per URI, as Chrome sends.
    const [audioExt, videoExt] = [pc.config.headerExtensions.audio ?? [], pc.config.headerExtensions.video ?? []];
    for (const e of [...audioExt, ...videoExt]) e.id = e.uri === useTransportWideCC().uri ? TWCC_EXTENSION_ID : 2;
  }
  const videoTx: RTCRtpTransceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  const audioTx: RTCRtpTransceiver = pc.addTransceiver('audio', { direction: 'recvonly' });
  // Transport-wide feedback as a browser sends it (one for the whole transport, every 100 ms). werift's own cannot be
  // parsed back as soon as a packet is missing: keep it off.
  const twcc = cc ? new TwccReceiver() : undefined;
  if (twcc) for (const tx of [videoTx, audioTx]) (tx.receiver as unknown as { setupTWCC: () => void }).setupTWCC = () => undefined;
  const noteTwcc = (rtp: RtpPacket): void => {
    const ext = twcc && rtp.header.extensions.find((e) => e.id === TWCC_EXTENSION_ID);
    if (ext && ext.payload.length >= 2) twcc!.received(ext.payload.readUInt16BE(0), performance.now() * 1000);
  };

  const mimeOf = (tx: RTCRtpTransceiver, pt: number): string =>
    tx.codecs.find((c) => c.payloadType === pt)?.mimeType ?? '';

  // werift only sends a PLI when the answer lists `a=rtcp-fb:<pt> nack pli`: plisSent stays 0 otherwise.
  const sendPli = (): void => {
    if (closed || !isConnected || videoSsrc === undefined || !videoTx.receiver.pliEnabled) return;
    lastPliAt = performance.now();
    stats.plisSent++;
    quality.pliSent(lastPliAt);
    void videoTx.receiver.sendRtcpPLI(videoSsrc).catch(() => undefined);
  };

  // ---- video decode -------------------------------------------------------------------------------------------
  let outBuf = Buffer.alloc(frameBytes);
  let outFill = 0;
  const onDecoded = (chunk: Buffer): void => {
    let o = 0;
    while (o < chunk.length) {
      const n = Math.min(frameBytes - outFill, chunk.length - o);
      chunk.copy(outBuf, outFill, o, o + n);
      outFill += n;
      o += n;
      if (outFill === frameBytes) {
        stats.framesDecoded++;
        latest = { rgb: outBuf, width: W, height: H, at: performance.now(), index: stats.framesDecoded };
        quality.frameDecoded(latest.at);
        outBuf = Buffer.alloc(frameBytes);
        outFill = 0;
        const ws = waiters;
        waiters = [];
        for (const w of ws) w(latest);
      }
    }
  };

  let ivfPts = 0;
  const startDecoder = (first: AssembledFrame): TrackedChild => {
    const input = ['-f', first.codec === 'h264' ? 'h264' : 'ivf'];
    const child = spawnFfmpeg(
      [
        '-loglevel', 'error', '-threads', '1', '-probesize', '32', '-analyzeduration', '0', '-flags', 'low_delay',
        ...input, '-i', 'pipe:0',
        // Output '-threads 1' too: the rawvideo encoder is frame-threaded and otherwise holds back (cores-1) frames.
        // passthrough: one output frame per decoded frame (the raw H.264 demuxer guesses a frame rate, and a constant
        // rate output would duplicate frames of a 20 fps rendition up to it: decoded fps must count real frames)
        '-an', '-vf', `scale=${W}:${H}`, '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-threads', '1', '-f', 'rawvideo', 'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.child.stdout?.on('data', onDecoded);
    void child.exited.then(({ code, signal: sig }) => {
      if (closed) return;
      stats.errors.push(`decoder exited (code ${code}, signal ${sig}): ${child.stderrTail()}`);
      // Start a fresh decoder on the next keyframe.
      if (decoder === child) decoder = undefined;
      if (assembler) assembler.needKeyframe = true;
      outFill = 0;
    });
    if (first.codec === 'vp8') child.child.stdin?.write(ivfHeader(first.width ?? W, first.height ?? H));
    decoderCodec = first.codec;
    return child;
  };

  const onFrame = (f: AssembledFrame): void => {
    if (closed) return;
    if (!decoder) decoder = startDecoder(f);
    if (f.codec !== decoderCodec) return;
    const stdin = decoder.child.stdin;
    if (!stdin || stdin.destroyed) return;
    stdin.write(f.codec === 'h264' ? Buffer.concat([f.data, AUD]) : ivfFrame(f.data, ivfPts++));
  };

  const onVideoRtp = (rtp: RtpPacket): void => {
    if (closed) return;
    noteTwcc(rtp);
    const mime = mimeOf(videoTx, rtp.header.payloadType);
    videoCont.add(rtp, mime);
    quality.videoPacket(performance.now(), rtp.serializeSize);
    if (videoSsrc === undefined) {
      videoSsrc = rtp.header.ssrc;
      sendPli();
    }
    const lower = mime.toLowerCase();
    const codec: VideoCodec | undefined =
      lower === 'video/h264' ? 'h264' : lower === 'video/vp8' ? 'vp8' : undefined;
    if (!codec) return;
    if (!assembler) assembler = new FrameAssembler(codec, onFrame);
    assembler.push(rtp, performance.now());
  };

  // ---- audio decode -------------------------------------------------------------------------------------------
  const pushSamples = (n: number, sample: (i: number) => number): void => {
    for (let i = 0; i < n; i++) {
      ring[ringPos] = sample(i);
      ringPos = (ringPos + 1) % ring.length;
    }
    ringFilled = Math.min(ring.length, ringFilled + n);
  };
  let audioNextTs: number | undefined;
  let audioSsrc: number | undefined;
  const onAudioRtp = (rtp: RtpPacket): void => {
    if (closed) return;
    noteTwcc(rtp);
    audioCont.add(rtp, mimeOf(audioTx, rtp.header.payloadType));
    stats.audioPackets++;
    quality.audioPacket(performance.now());
    const { timestamp: ts, ssrc } = rtp.header;
    if (ssrc !== audioSsrc) {
      audioSsrc = ssrc;
      audioNextTs = undefined;
    }
    if (audioNextTs !== undefined) {
      const gap = tsDiff(ts, audioNextTs);
      if (gap < 0) {
        stats.audioLatePackets++;
        return;
      }
      if (gap > 0 && gap <= SAMPLE_RATE) {
        stats.audioConcealedSamples += gap;
        pushSamples(gap, () => 0);
      }
    }
    if (rtp.payload.length === 0) return;
    let pcm: Buffer;
    try {
      pcm = opus.decode(rtp.payload);
    } catch {
      stats.audioDecodeErrors++;
      return;
    }
    const n = pcm.length >> 1;
    pushSamples(n, (i) => pcm.readInt16LE(i * 2) / 32768);
    audioNextTs = (ts + n) >>> 0;
  };

  videoTx.receiver.onPacketLost.subscribe((nack: GenericNack) => {
    stats.nacksSent++;
    stats.nackedPackets += nack.lost.length;
    quality.nackSent(performance.now(), nack.lost.length);
  });

  pc.onTrack.subscribe((track: MediaStreamTrack) => {
    if (track.kind === 'video') track.onReceiveRtp.subscribe(onVideoRtp);
    else if (track.kind === 'audio') track.onReceiveRtp.subscribe(onAudioRtp);
  });

  // PLI while no keyframe came (or after a loss), and time out incomplete frames when packets stop.
  const housekeeping = setInterval(() => {
    const now = performance.now();
    assembler?.poll(now);
    const needKey = !assembler || assembler.needKeyframe;
    if (needKey && now - lastPliAt > 1000) sendPli();
  }, 250);
  const twccTimer = setInterval(() => {
    const fb = isConnected && videoSsrc !== undefined ? twcc?.feedback(1, videoSsrc) : undefined;
    if (fb) void videoTx.receiver.dtlsTransport.sendRtcp([{ serialize: () => fb } as never]).catch(() => undefined);
  }, 100);

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    clearInterval(housekeeping);
    clearInterval(twccTimer);
    for (const w of waiters) w(undefined); // wake the waiters: they reject
    waiters = [];
    await decoder?.kill();
    await settleBeforeClose(pc);
    await pc.close().catch(() => undefined);
    opus.delete();
  };

  let resourceUrl: string;
  try {
    resourceUrl = await signalWithSdpTransform(pc, opts.whepUrl, opts.token, opts.sdpTransform);
  } catch (err) {
    await close();
    throw err;
  }
  const connectedP = whenConnected(pc, opts.connectTimeoutMs ?? 15000);
  connectedP.then(
    () => {
      isConnected = true;
      sendPli();
    },
    () => undefined,
  );

  return {
    resourceUrl,
    pc,
    connected: () => connectedP,
    latestFrame: () => latest,
    waitForFrame(pred: (f: DecodedFrame) => boolean, timeoutMs: number): Promise<DecodedFrame> {
      if (latest && pred(latest)) return Promise.resolve(latest);
      return new Promise<DecodedFrame>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          const l = latest ? `latest frame #${latest.index} ${(performance.now() - latest.at).toFixed(0)} ms ago` : 'no frame decoded';
          reject(new Error(`waitForFrame: no matching frame within ${timeoutMs} ms (${l}; ${stats.errors.join('; ')})`));
        }, timeoutMs);
        const check = (f: DecodedFrame | undefined): void => {
          if (closed || !f) {
            clearTimeout(timer);
            reject(new Error('waitForFrame: subscriber closed'));
          } else if (pred(f)) {
            clearTimeout(timer);
            resolve(f);
          } else {
            waiters.push(check);
          }
        };
        waiters.push(check);
      });
    },
    audio(seconds: number): Float32Array {
      const n = Math.min(ringFilled, Math.max(0, Math.round(seconds * SAMPLE_RATE)));
      const out = new Float32Array(n);
      const start = (ringPos - n + ring.length) % ring.length;
      const firstPart = Math.min(n, ring.length - start);
      out.set(ring.subarray(start, start + firstPart), 0);
      out.set(ring.subarray(0, n - firstPart), firstPart);
      return out;
    },
    stats: (): SubscriberStats => ({
      video: { ...videoCont.stats, ssrcs: [...videoCont.stats.ssrcs] },
      audio: { ...audioCont.stats, ssrcs: [...audioCont.stats.ssrcs] },
      assembler: { ...(assembler?.stats ?? { framesEmitted: 0, keyframesEmitted: 0, framesDropped: 0, latePackets: 0 }) },
      ...stats,
      errors: [...stats.errors],
    }),
    quality: (windowMs = 2000) => quality.window(windowMs, performance.now()),
    videoCodec: () => videoTx.codecs[0]?.mimeType ?? '',
    requestKeyframe: sendPli,
    leave: () => deleteThenClose(resourceUrl, opts.token, close),
    close,
  };
}
