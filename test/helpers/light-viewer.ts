/**
 * A light WHEP viewer: a real werift peer (recvonly audio + video, the same codecs and feedback as the decoding
 * subscriber offers, or none with `silent`) that only counts the RTP it receives — bytes (header + payload) and packets per track, and gaps
 * between video packets — with no depacketizing and no decoding, so 40–50 of them fit in one process.
 *
 * Many of them are meant to run in a child process (test/helpers/peer-process.ts), so that the receiving side's event
 * loop is not the one under test: `startPeerProcess(...).lightViewers(...)`.
 */
import { performance } from 'node:perf_hooks';
import { type MediaStreamTrack, type RTCPeerConnection, RtcpReceiverInfo, RtcpRrPacket, type RtpPacket } from 'werift';
import { createPeer, deleteThenClose, h264Codec, opusCodec, settleBeforeClose, signal, vp8Codec, whenConnected, type PeerNetworkOptions } from './webrtc-peer';

export interface LightViewerOptions extends PeerNetworkOptions {
  whepUrl: string;
  token: string;
  /** Video packet gaps at least this long are remembered (default 50 ms). */
  gapThresholdMs?: number;
  /**
   * No RTCP feedback (no NACK, PLI or REMB; its receiver reports, once a second, say "no loss": the server removes a
   * subscriber silent for 15 s): a pure counter. Forty of them share one process
   * on a shared machine; starved, their losses and late reports read as congestion, and adaptive delivery (tested on its
   * own, test/e2e/adaptive-*) rightly moves them down, which is not what the fan-out test measures. The bench keeps
   * feedback on (its cost per viewer includes handling it).
   */
  silent?: boolean;
}

/** Cumulative counters since the viewer started. */
export interface LightCounters {
  /** performance.now() of this reading. */
  at: number;
  bytes: number;
  packets: number;
  videoBytes: number;
  videoPackets: number;
  audioBytes: number;
  audioPackets: number;
}

export interface LightViewer {
  readonly pc: RTCPeerConnection;
  readonly resourceUrl: string;
  connected(): Promise<void>;
  counters(): LightCounters;
  /** The longest gap between two video packets that ended in [from, to] (performance.now() times), 0 if none ≥ the threshold. */
  longestVideoGap(from: number, to: number): number;
  /** DELETE the WHEP resource, then close. */
  leave(): Promise<number>;
  close(): Promise<void>;
}

export async function startLightViewer(opts: LightViewerOptions): Promise<LightViewer> {
  const threshold = opts.gapThresholdMs ?? 50;
  const c = { bytes: 0, packets: 0, videoBytes: 0, videoPackets: 0, audioBytes: 0, audioPackets: 0 };
  /** [end time, gap] of video gaps ≥ threshold, oldest first, the last 60 s. */
  const gaps: Array<[number, number]> = [];
  let lastVideoAt: number | undefined;
  let closed = false;
  /** The last sequence number seen per SSRC (for the `silent` viewer's own receiver reports). */
  const highest = new Map<number, number>();

  const silent = (c: ReturnType<typeof vp8Codec>) => (opts.silent ? ((c.rtcpFeedback = []), c) : c);
  const pc = createPeer({ video: [silent(h264Codec()), silent(vp8Codec())], audio: [opusCodec()] }, opts, opts.silent ? { debug: { receiverReportDelay: 2 ** 31 - 1 } } : {});
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.onTrack.subscribe((track: MediaStreamTrack) => {
    const video = track.kind === 'video';
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      if (opts.silent) highest.set(rtp.header.ssrc, rtp.header.sequenceNumber);
      const n = rtp.serializeSize;
      c.bytes += n;
      c.packets++;
      if (!video) {
        c.audioBytes += n;
        c.audioPackets++;
        return;
      }
      c.videoBytes += n;
      c.videoPackets++;
      const now = performance.now();
      if (lastVideoAt !== undefined && now - lastVideoAt >= threshold) {
        gaps.push([now, now - lastVideoAt]);
        while (gaps.length && gaps[0][0] < now - 60_000) gaps.shift();
      }
      lastVideoAt = now;
    });
  });

  const alive = opts.silent
    ? setInterval(() => {
        const transport = pc.getTransceivers()[0]?.receiver.dtlsTransport;
        const reports = [...highest].map(([ssrc, seq]) => new RtcpReceiverInfo({ ssrc, fractionLost: 0, packetsLost: 0, highestSequence: seq, jitter: 0, lsr: 0, dlsr: 0 }));
        if (reports.length) transport?.sendRtcp([new RtcpRrPacket({ ssrc: 0x4c494748, reports })]).catch(() => undefined);
      }, 1000)
    : undefined;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    clearInterval(alive);
    await settleBeforeClose(pc);
    await pc.close().catch(() => undefined);
  };

  let resourceUrl: string;
  try {
    resourceUrl = await signal(pc, opts.whepUrl, opts.token);
  } catch (e) {
    await close();
    throw e;
  }
  const connectedP = whenConnected(pc, opts.connectTimeoutMs ?? 15000);
  return {
    pc,
    resourceUrl,
    connected: () => connectedP,
    counters: () => ({ at: performance.now(), ...c }),
    longestVideoGap(from: number, to: number): number {
      let longest = 0;
      for (const [end, gap] of gaps) if (end >= from && end <= to) longest = Math.max(longest, gap);
      // a gap still going on at `to`
      if (lastVideoAt !== undefined && to - lastVideoAt >= threshold && lastVideoAt <= to) longest = Math.max(longest, to - Math.max(lastVideoAt, from));
      return longest;
    },
    leave: () => deleteThenClose(resourceUrl, opts.token, close),
    close,
  };
}
