import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { RenditionSpec } from '@app/core';
import { RtcpPayloadSpecificFeedback, RtcpRrPacket, RtcpSrPacket, RtcpTransportLayerFeedback, RTP_EXTENSION_URI, RtpHeader, RtpPacket, serializeTransportWideCC, TransportWideCC, wrapRtx, type RTCPeerConnection, type RTCRtpSender, type RtcpPacket } from 'werift';
import { DeliveryController } from '../delivery/delivery-controller';
import { ByteBudget, RateMeter } from '../delivery/rate-meter';
import { TwccTracker } from '../delivery/twcc-tracker';
import { type Forwarded, VideoForwarder } from '../delivery/video-forwarder';
import { describe, disableWeriftRetransmissions, installFastTwccParser, twccResults } from '../delivery/werift-feedback';
import type { Logger } from '../logger';
import { RTP_MIN_HEADER } from '../rtp/rtp-bytes';
import { plainRtpPayload, sendRtpFast } from '../webrtc/werift-fastpath';
import { connectDeadline, DEFAULT_CONNECT_TIMEOUT_MS } from '../webrtc/connect-deadline';
import type { CloseReason } from './publisher';

/** What a subscriber needs of the mixer's renditions. */
export interface RenditionUser {
  acquire(name: string): void;
  release(name: string): void;
  requestKeyframe(name: string): void;
}

export interface SubscriberOptions {
  id: string;
  identity: string;
  pc: RTCPeerConnection;
  videoSender?: RTCRtpSender;
  audioSender?: RTCRtpSender;
  logger?: Logger;
  /** A recorder or livestream worker: always on high, not adapted, not listed. */
  hidden?: boolean;
  /** High first. */
  ladder: readonly RenditionSpec[];
  renditions: RenditionUser;
  audioKbps: number;
  /** Did the answer accept transport-wide congestion control feedback? */
  twcc: boolean;
  /** Closed when ICE/DTLS has not connected this long after the answer (SESSION_CONNECT_TIMEOUT_SECONDS). */
  connectTimeoutMs?: number;
}

export interface QualityChange {
  rendition: string | null;
  previous: string | null;
  estimateKbps: number;
  reason: string;
}

const UPDATE_MS = 200;
/** Bytes per packet on the wire beyond the RTP packet (IP, UDP, SRTP tag). */
const WIRE_OVERHEAD = 38;

/**
 * A WHEP subscriber: one video sender, fed with the rendition of the room's mix that fits its link, and one audio sender
 * (its mix variant, with this subscriber's own continuous sequence and timestamps). Its DeliveryController picks the
 * rendition from transport-wide feedback, receiver reports, NACKs and REMB; its VideoForwarder switches at keyframes under
 * one SSRC. NACKs are answered from our own history, within what the estimate leaves room for.
 */
export class Subscriber extends EventEmitter<{ closed: [reason: CloseReason]; qualityChanged: [change: QualityChange]; switched: [rendition: string] }> {
  readonly createdAt = new Date();
  readonly id: string;
  readonly identity: string;
  readonly pc: RTCPeerConnection;
  readonly hidden: boolean;
  private readonly videoSender?: RTCRtpSender;
  private readonly audioSender?: RTCRtpSender;
  private readonly logger?: Logger;
  private audioSeq = Math.floor(Math.random() * 0x8000);
  private audioTs = Math.floor(Math.random() * 0x7fffffff);
  private closed = false;
  private lastRtcpAt = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly disposers: Array<() => void> = [];
  private readonly controller?: DeliveryController;
  private readonly forwarder: VideoForwarder;
  private readonly twcc = new TwccTracker();
  private readonly sent = new RateMeter();
  private readonly mediaSent = new RateMeter();
  private readonly packetsSent = new RateMeter();
  /** Sequence numbers NACKed in the last second, with when (a receiver repeats its NACKs: count each packet once). */
  private readonly nackedAt = new Map<number, number>();
  private readonly rtxBudget = new ByteBudget();
  /** Renditions this subscriber holds (its current one, and the one it is switching to). */
  private readonly held = new Set<string>();
  private rrLoss?: number;
  private lastReport?: { lost: number; highest: number };
  /** The rate changed (a switch, a pause, a probe) at this time: feedback about packets sent before says nothing now. */
  private measureSince = -Infinity;
  /** Probe bytes still to send in this update interval (copies of recent packets). */
  private probeDebt = 0;
  private probeCursor = 0;
  private keyframeAskedAt = 0;
  static SILENCE_TIMEOUT_MS = 15_000;
  variant = 'all';
  videoPacketsOut = 0;
  audioPacketsOut = 0;
  probePacketsOut = 0;
  bytesOut = 0;
  pliReceived = 0;
  nacksReceived = 0;
  retransmissions = 0;
  retransmissionsSkipped = 0;
  switchesUp = 0;
  switchesDown = 0;

  constructor(private readonly o: SubscriberOptions) {
    super();
    this.id = o.id;
    this.identity = o.identity;
    this.pc = o.pc;
    this.hidden = o.hidden === true;
    this.videoSender = o.videoSender;
    this.audioSender = o.audioSender;
    this.logger = o.logger;
    const high = o.ladder[0].name;
    if (o.videoSender && !this.hidden) {
      this.controller = new DeliveryController({ ladder: o.ladder, audioKbps: o.audioSender ? o.audioKbps : 0, twcc: o.twcc });
    }
    const initial = o.videoSender ? (this.controller ? this.controller.rendition : high) : null;
    this.forwarder = new VideoForwarder(initial);
    if (initial) this.hold(initial);
    this.pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed') this.close('connection_lost');
      if (s === 'connected') {
        this.lastRtcpAt = Date.now();
        this.askKeyframe();
      }
    });
    const connectMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.disposers.push(
      connectDeadline(this.pc, connectMs, (state) => {
        this.logger?.warn(`subscriber ${this.id} (${this.identity}) did not connect within ${connectMs / 1000} s (ICE/DTLS ${state}); closed, its port released`);
        this.close('connection_lost');
      }),
    );
    installFastTwccParser();
    for (const sender of [o.videoSender, o.audioSender]) sender?.onRtcp.subscribe((p) => this.onRtcp(p));
    // Transport-wide feedback is about the transport: read it there. werift routes it to a sender by its media SSRC,
    // which browsers set to the SSRC of the last packet they received: an RTX one is in no sender's table, and its
    // feedback would be lost (exactly during probes, which go on RTX).
    const transport = (o.videoSender ?? o.audioSender)?.dtlsTransport;
    const twccSub = transport?.onRtcp.subscribe((p) => {
      if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof TransportWideCC) this.twcc.feedback(twccResults(p.feedback), performance.now());
    });
    if (twccSub) this.disposers.push(() => twccSub.unSubscribe());
    if (o.videoSender) {
      disableWeriftRetransmissions(o.videoSender);
      o.videoSender.onGenericNack.subscribe((nack) => this.onNack(nack.lost));
      o.videoSender.onPictureLossIndication.subscribe(() => {
        this.pliReceived++;
        this.askKeyframe(true);
      });
    }
    // werift has no ICE consent checks: a subscriber that vanished is noticed by its silence (no RTCP receiver reports).
    this.timers.push(
      setInterval(() => {
        if (this.lastRtcpAt && Date.now() - this.lastRtcpAt > Subscriber.SILENCE_TIMEOUT_MS) {
          this.logger?.warn(`subscriber ${this.id} (${this.identity}) sent no RTCP for ${Date.now() - this.lastRtcpAt} ms; removing`);
          this.close('connection_lost');
        }
      }, 2000),
    );
    if (this.controller) this.timers.push(setInterval(() => this.update(), UPDATE_MS));
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  /** The rendition it receives (null: video paused or none yet), what it wants, and its estimate. */
  get quality(): { rendition: string | null; target: string | null; estimateKbps?: number } {
    return {
      rendition: this.forwarder.current ?? null,
      target: this.forwarder.target,
      ...(this.controller ? { estimateKbps: this.controller.estimateKbps } : {}),
    };
  }

  stats(): {
    videoPacketsOut: number;
    audioPacketsOut: number;
    probePacketsOut: number;
    bytesOut: number;
    pliReceived: number;
    nacksReceived: number;
    retransmissions: number;
    retransmissionsSkipped: number;
    switchesUp: number;
    switchesDown: number;
  } {
    const { videoPacketsOut, audioPacketsOut, probePacketsOut, bytesOut, pliReceived, nacksReceived, retransmissions, retransmissionsSkipped, switchesUp, switchesDown } = this;
    return { videoPacketsOut, audioPacketsOut, probePacketsOut, bytesOut, pliReceived, nacksReceived, retransmissions, retransmissionsSkipped, switchesUp, switchesDown };
  }

  private hold(r: string): void {
    if (this.held.has(r)) return;
    this.held.add(r);
    this.o.renditions.acquire(r);
  }

  private releaseAllBut(keep: ReadonlyArray<string | undefined | null>): void {
    for (const r of [...this.held]) {
      if (keep.includes(r)) continue;
      this.held.delete(r);
      this.o.renditions.release(r);
    }
  }

  /** A keyframe of what it is about to receive (rate-limited per rendition by the encoder). */
  private askKeyframe(force = false): void {
    const r = this.forwarder.switching ? this.forwarder.target : (this.forwarder.current ?? this.forwarder.target);
    if (!r) return;
    const now = performance.now();
    if (!force && now - this.keyframeAskedAt < 300) return;
    this.keyframeAskedAt = now;
    this.o.renditions.requestKeyframe(r);
  }

  private update(): void {
    if (!this.controller || this.closed || !this.connected) return;
    const now = performance.now();
    const packets = this.packetsSent.kbps(now);
    const rrLoss = this.rrLoss;
    this.rrLoss = undefined;
    const remb = this.videoSender ? Number(this.videoSender.receiverEstimatedMaxBitrate) / 1000 : 0;
    const sample = {
      nowMs: now,
      sentKbps: this.sent.kbps(now),
      twcc: this.o.twcc ? this.twcc.window(now, 10, this.measureSince) : undefined,
      rrLoss,
      nackRate: packets > 0 ? Math.min(1, this.recentNacks(now) / ((packets * 1000) / 8)) : 0,
      rembKbps: remb > 0 ? remb : undefined,
    };
    const d = this.controller.update(sample);
    if (d.probe) {
      this.logger?.debug?.(`subscriber ${this.identity} (${this.id}): probe to ${d.probe.targetKbps} kbps ${d.probe.event}${d.probe.why ? `: ${d.probe.why}` : ''} (${describe(sample)}; media ${Math.round(this.mediaSent.kbps(now))} kbps, ${this.probePacketsOut} probe packets so far)`);
      this.measureAfresh(now);
    }
    // the probe's rate on top of the media (not of everything sent: that would count the probe's own packets)
    this.probeDebt = d.probeKbps === undefined ? 0 : Math.max(0, ((d.probeKbps - this.mediaSent.kbps(now)) * UPDATE_MS) / 8);
    // retransmissions may use what the estimate leaves beyond the media, and at least a tenth of it
    this.rtxBudget.kbps = Math.max(d.estimateKbps * 0.1, d.estimateKbps - this.mediaSent.kbps(now));
    if (d.rendition !== this.forwarder.target) this.retarget(d.rendition, d.estimateKbps, d.reason ?? 'estimate changed', describe(sample));
    else if (this.forwarder.switching) this.askKeyframe();
  }

  private retarget(r: string | null, estimateKbps: number, reason: string, detail: string): void {
    const previous = this.forwarder.current ?? null;
    const rank = (x: string | null) => (x === null ? Infinity : this.o.ladder.findIndex((s) => s.name === x));
    if (rank(r) < rank(this.forwarder.target)) this.switchesUp++;
    else this.switchesDown++;
    this.forwarder.setTarget(r);
    if (r === null) this.measureAfresh(performance.now());
    if (r) {
      this.hold(r);
      this.askKeyframe(true);
    }
    this.releaseAllBut([this.forwarder.current, r]);
    this.logger?.log(`subscriber ${this.identity} (${this.id}): ${previous ?? 'paused'} -> ${r ?? 'paused (audio only)'}: ${reason}; estimate ${estimateKbps} kbps (${detail})`);
    this.emit('qualityChanged', { rendition: r, previous, estimateKbps, reason });
  }

  /**
   * Pays some of the probe's debt with copies of video packets it was recently sent (up to `maxPackets`, so that a
   * probe's bytes spread over the interval instead of leaving in one burst): on the RTX stream when negotiated (new
   * sequence numbers: browsers' SRTP drops replayed packets), else as duplicates on the video stream (a receiver drops a
   * duplicate as one; padding-only packets would take sequence numbers that some players, werift's, drop and then NACK).
   */
  private probe(maxPackets: number): void {
    if (!this.videoSender || this.probeDebt <= 0) return;
    const now = performance.now();
    for (let i = 0; i < maxPackets && this.probeDebt > 0; i++) {
      const f = this.forwarder.recent(this.probeCursor++ % 64);
      if (!f) {
        this.probeCursor = 0;
        return;
      }
      this.sendCopy(f, now, true);
      this.probePacketsOut++;
      this.probeDebt -= f.buf.length + WIRE_OVERHEAD;
    }
  }

  /**
   * Sends an earlier packet again: a retransmission, or a probe. With RTX negotiated it goes on the RTX stream, with a
   * transport-wide sequence number of its own (so that feedback covers it); without, a probe is a duplicate sent
   * through werift (which numbers it) and a retransmission the original packet as it was.
   */
  private sendCopy(f: Forwarded, now: number, probe: boolean): void {
    const sender = this.videoSender!;
    const transport = sender.dtlsTransport;
    let pkt = RtpPacket.deSerialize(f.buf);
    pkt.header.sequenceNumber = f.seq;
    pkt.header.timestamp = f.ts;
    // werift keeps these private; they are what it uses itself for RTX
    const rtx = sender as unknown as { rtxPayloadType?: number; rtxSequenceNumber: number; rtxSsrc: number; headerExtensions: Array<{ uri: string; id: number }> };
    if (rtx.rtxPayloadType === undefined && probe) return this.send(sender, pkt, f.buf.length);
    pkt.header.ssrc = sender.ssrc;
    pkt.header.payloadType = sender.codec?.payloadType ?? pkt.header.payloadType;
    const wire = f.buf.length + WIRE_OVERHEAD;
    if (rtx.rtxPayloadType !== undefined) {
      pkt = wrapRtx(pkt, rtx.rtxPayloadType, rtx.rtxSequenceNumber, rtx.rtxSsrc);
      rtx.rtxSequenceNumber = (rtx.rtxSequenceNumber + 1) & 0xffff;
      const twccId = rtx.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.transportWideCC)?.id;
      if (twccId !== undefined) {
        transport.transportSequenceNumber = (transport.transportSequenceNumber + 1) & 0xffff;
        pkt.header.extensions = [{ id: twccId, payload: serializeTransportWideCC(transport.transportSequenceNumber) }];
        this.twcc.sent(transport.transportSequenceNumber, wire + 2, now);
      }
    }
    this.sent.add(wire, now);
    this.packetsSent.add(1, now);
    this.bytesOut += f.buf.length;
    transport.sendRtp(pkt.payload, pkt.header).catch(() => undefined);
  }

  /** Sends through werift (which adds the negotiated header extensions) and notes the transport-wide number it used. */
  private send(sender: RTCRtpSender, pkt: RtpPacket, size: number): void {
    const transport = sender.dtlsTransport;
    const before = transport?.transportSequenceNumber;
    sender.sendRtp(pkt).catch(() => undefined);
    this.sentVia(transport, before, size);
  }

  /**
   * Sends as `send` does, through werift-fastpath (the same packet on the wire, without werift's per-packet objects);
   * false when that path does not cover this sender (then nothing was sent).
   */
  private sendFast(sender: RTCRtpSender, marker: boolean, seq: number, ts: number, payload: Buffer, size: number): boolean {
    const transport = sender.dtlsTransport;
    const before = transport?.transportSequenceNumber;
    if (sendRtpFast(sender, marker, seq, ts, payload) < 0) return false;
    this.sentVia(transport, before, size);
    return true;
  }

  private sentVia(transport: RTCRtpSender['dtlsTransport'] | undefined, before: number | undefined, size: number): void {
    const now = performance.now();
    const wire = size + WIRE_OVERHEAD;
    if (transport && transport.transportSequenceNumber !== before) this.twcc.sent(transport.transportSequenceNumber, wire, now);
    this.sent.add(wire, now);
    this.packetsSent.add(1, now);
    this.bytesOut += size;
  }

  sendVideo(rendition: string, packet: Buffer, keyframeStart: boolean): void {
    if (!this.videoSender || !this.connected) return;
    const before = this.forwarder.current;
    const now = performance.now();
    const f = this.forwarder.forward(rendition, packet, keyframeStart, now);
    if (!f) return;
    if (before !== this.forwarder.current) {
      this.releaseAllBut([this.forwarder.current]);
      this.measureAfresh(now);
      if (before) this.logger?.debug?.(`subscriber ${this.id}: switched ${before} -> ${this.forwarder.current} at a keyframe`);
      if (this.forwarder.current) this.emit('switched', this.forwarder.current);
    }
    this.videoPacketsOut++;
    this.mediaSent.add(f.buf.length + WIRE_OVERHEAD, now);
    const payload = plainRtpPayload(f.buf);
    if (!payload || !this.sendFast(this.videoSender, (f.buf[1] & 0x80) !== 0, f.seq, f.ts, payload, f.buf.length)) {
      const pkt = RtpPacket.deSerialize(f.buf);
      pkt.header.sequenceNumber = f.seq;
      pkt.header.timestamp = f.ts;
      this.send(this.videoSender, pkt, f.buf.length);
    }
    if (this.probeDebt > 0) this.probe(4);
  }

  sendAudio(opus: Buffer): void {
    this.audioTs = (this.audioTs + 960) >>> 0;
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    if (!this.audioSender || !this.connected) return;
    const size = RTP_MIN_HEADER + opus.length;
    this.audioPacketsOut++;
    this.mediaSent.add(size + WIRE_OVERHEAD, performance.now());
    // (the shared Opus payload is only read)
    if (!this.sendFast(this.audioSender, false, this.audioSeq, this.audioTs, opus, size)) {
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: this.audioSeq, timestamp: this.audioTs, ssrc: this.audioSender.ssrc });
      this.send(this.audioSender, new RtpPacket(header, opus), size);
    }
    if (this.probeDebt > 0) this.probe(6); // every 20 ms
  }

  private onRtcp(p: RtcpPacket): void {
    this.lastRtcpAt = Date.now();
    // (transport-wide feedback is read from the transport: see the constructor)
    if ((p instanceof RtcpRrPacket || p instanceof RtcpSrPacket) && this.videoSender) {
      const report = p.reports.find((r) => r.ssrc === this.videoSender!.ssrc);
      if (report) {
        // the loss between two reports, from their cumulative counters (a receiver's own fraction is unreliable while
        // a stream starts); too few packets in between tell nothing
        const last = this.lastReport;
        this.lastReport = { lost: report.packetsLost, highest: report.highestSequence };
        const expected = last ? report.highestSequence - last.highest : 0;
        if (last && expected >= 10) this.rrLoss = Math.max(this.rrLoss ?? 0, Math.min(1, Math.max(0, (report.packetsLost - last.lost) / expected)));
      }
    } else if (p instanceof RtcpPayloadSpecificFeedback && (p.feedback as { count?: number } | undefined)?.count === 4) {
      this.askKeyframe(true); // FIR
    }
  }

  private measureAfresh(now: number): void {
    this.measureSince = now;
    this.nackedAt.clear();
    this.lastReport = undefined; // the next receiver report is a new baseline
  }

  /** Distinct packets NACKed in the last second. */
  private recentNacks(now: number): number {
    for (const [seq, at] of this.nackedAt) {
      if (now - at <= 1000) break; // insertion order: the rest are newer
      this.nackedAt.delete(seq);
    }
    return this.nackedAt.size;
  }

  private onNack(lost: number[]): void {
    const sender = this.videoSender;
    const transport = sender?.dtlsTransport;
    if (!sender || !transport || !this.connected) return;
    const now = performance.now();
    this.nacksReceived += lost.length;
    for (const seq of lost) {
      const f = this.forwarder.lookup(seq);
      // a loss counts for the estimate once, and only if the packet went out at the current rate
      if (!this.nackedAt.has(seq) && (!f || f.at >= this.measureSince)) this.nackedAt.set(seq, now);
      if (f?.rtxAt !== undefined && now - f.rtxAt < 150) continue; // asked again before the retransmission could arrive
      if (!f || !this.rtxBudget.take(f.buf.length + WIRE_OVERHEAD, now)) {
        this.retransmissionsSkipped++;
        continue;
      }
      f.rtxAt = now;
      this.retransmissions++;
      this.sendCopy(f, now, false);
    }
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const d of this.disposers) d();
    this.releaseAllBut([]);
    this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
