import type { VideoCodec } from '@app/core';
import { EventEmitter } from 'node:events';
import type { MediaStreamTrack, RTCPeerConnection, RtpPacket } from 'werift';
import type { Logger } from '../logger';
import { AUDIO_RATE_LIMITS, PacketRateLimiter, VIDEO_RATE_LIMITS } from '../rtp/publisher-rate-limit';
import { VideoFrameAssembler } from '../rtp/video-frame-assembler';
import type { EncodedFrame } from '../mixer/video-input';
import { connectDeadline, DEFAULT_CONNECT_TIMEOUT_MS } from '../webrtc/connect-deadline';
import type { OfferCodec } from '../webrtc/sdp-offer';

export type CloseReason = 'left' | 'connection_lost' | 'room_closed' | 'replaced' | 'error';

export interface PublisherEvents {
  video: [frame: EncodedFrame];
  audio: [opus: Buffer];
  closed: [reason: CloseReason];
}

/**
 * A WHIP publisher: receives one audio and/or one video track over werift, assembles video frames and hands them
 * (and raw Opus payloads) to the room. Detects lost connections: ICE/DTLS failure, not connected within
 * `connectTimeoutMs`, or no media for `timeoutMs`.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  readonly createdAt = new Date();
  private videoTrack?: MediaStreamTrack;
  private videoReceiverPli?: (ssrc: number) => Promise<void>;
  private lastPliAt = 0;
  private lastMediaAt = Date.now();
  private watchdog?: NodeJS.Timeout;
  private readonly cancelConnectDeadline: () => void;
  private disconnectedSince?: number;
  private closed = false;
  packetsIn = 0;
  bytesIn = 0;
  framesIn = 0;
  pliSent = 0;
  /** Packets over the per-publisher rate limits, dropped before decoding (a flood). */
  packetsDropped = 0;
  private lastDropLogAt = 0;
  /** What the participant says it muted (`{"type":"mute"}` on the events socket); media may still flow (silence). */
  readonly muted = { audio: false, video: false };

  constructor(
    readonly id: string,
    readonly identity: string,
    readonly displayName: string | undefined,
    readonly pc: RTCPeerConnection,
    readonly videoCodec: VideoCodec | undefined,
    readonly hasAudio: boolean,
    private readonly offerCodecs: OfferCodec[],
    private readonly timeoutMs: number,
    private readonly logger?: Logger,
    /** `screen`: the participant's second video, a screen share. */
    readonly source: 'camera' | 'screen' = 'camera',
    connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  ) {
    super();
    // onTrack fires during setRemoteDescription: subscribe before signalling (done by the caller right after constructing).
    pc.onTrack.subscribe((track) => this.onTrack(track));
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        this.disconnectedSince = undefined;
        this.requestKeyframe(true);
      } else if (s === 'failed' || s === 'closed') this.close('connection_lost');
      else if (s === 'disconnected') this.disconnectedSince ??= Date.now();
    });
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
    this.cancelConnectDeadline = connectDeadline(pc, connectTimeoutMs, (state) => {
      this.logger?.warn(`publisher ${this.id} (${this.identity}) did not connect within ${connectTimeoutMs / 1000} s (ICE/DTLS ${state}); closed, its port released`);
      this.close('connection_lost');
    });
  }

  private checkAlive(): void {
    const now = Date.now();
    if (this.disconnectedSince !== undefined && now - this.disconnectedSince > this.timeoutMs) {
      this.logger?.warn(`publisher ${this.id} (${this.identity}) disconnected for ${now - this.disconnectedSince} ms; removing`);
      this.close('connection_lost');
    } else if (now - this.lastMediaAt > this.timeoutMs + (this.packetsIn === 0 ? 5000 : 0)) {
      // Extra grace for ICE + DTLS before the first packet.
      this.logger?.warn(`publisher ${this.id} (${this.identity}) sent no media for ${now - this.lastMediaAt} ms; removing`);
      this.close('connection_lost');
    }
  }

  private onTrack(track: MediaStreamTrack): void {
    // each track is rate-limited before anything decodes it: a flood costs this publisher packets, not the room its clock
    const limiter = new PacketRateLimiter(track.kind === 'audio' ? AUDIO_RATE_LIMITS : VIDEO_RATE_LIMITS, Date.now());
    if (track.kind === 'audio') {
      track.onReceiveRtp.subscribe((rtp) => {
        this.count(rtp);
        if (this.limited(limiter, rtp, 'audio')) return;
        this.emit('audio', rtp.payload);
      });
      return;
    }
    if (!this.videoCodec) return;
    this.videoTrack = track;
    const receiver = this.pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
    if (receiver) this.videoReceiverPli = (ssrc) => receiver.sendRtcpPLI(ssrc);
    const ptOk = new Set(this.offerCodecs.filter((c) => c.name.toLowerCase() === this.videoCodec).map((c) => c.payloadType));
    const assembler = new VideoFrameAssembler(
      this.videoCodec,
      (frame) => {
        this.framesIn++;
        this.emit('video', frame);
      },
      () => this.requestKeyframe(),
    );
    track.onReceiveRtp.subscribe((rtp) => {
      this.count(rtp);
      if (this.limited(limiter, rtp, 'video')) return;
      if (ptOk.size && !ptOk.has(rtp.header.payloadType)) return; // RTX/RED/other codecs are not decoded
      assembler.push(rtp);
    });
  }

  /** Whether the packet is over the track's rate limits (dropped; logged at most every 10 s). */
  private limited(limiter: PacketRateLimiter, rtp: RtpPacket, kind: 'audio' | 'video'): boolean {
    const now = Date.now();
    if (limiter.allow(rtp.payload.length, now)) return false;
    this.packetsDropped++;
    if (now - this.lastDropLogAt >= 10_000) {
      this.lastDropLogAt = now;
      const l = kind === 'audio' ? AUDIO_RATE_LIMITS : VIDEO_RATE_LIMITS;
      this.logger?.warn(`publisher ${this.id} (${this.identity}) sends ${kind} over ${l.packetsPerSecond} packets/s or ${l.bytesPerSecond / 1000} kB/s: ${limiter.dropped} ${kind} packets dropped before decoding so far`);
    }
    return true;
  }

  private count(rtp: RtpPacket): void {
    this.packetsIn++;
    this.bytesIn += rtp.payload.length;
    this.lastMediaAt = Date.now();
  }

  /** Sends a PLI (at most every 300 ms unless forced). */
  requestKeyframe(force = false): void {
    const now = Date.now();
    if (!this.videoTrack?.ssrc || !this.videoReceiverPli || (!force && now - this.lastPliAt < 300)) return;
    this.lastPliAt = now;
    this.pliSent++;
    this.videoReceiverPli(this.videoTrack.ssrc).catch(() => undefined);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.cancelConnectDeadline();
    this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
