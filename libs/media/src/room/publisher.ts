import { EventEmitter } from 'node:events';
import type { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { DepacketizeBase, JitterBufferBase } from 'werift/nonstandard';
import type { Logger } from '../logger';
import { annexBIsKeyframe } from '../rtp/rtp-bytes';
import type { EncodedFrame } from '../mixer/video-input';
import type { OfferCodec } from '../webrtc/sdp-offer';

export type CloseReason = 'left' | 'connection_lost' | 'room_closed' | 'replaced' | 'error';

export interface PublisherEvents {
  video: [frame: EncodedFrame];
  audio: [opus: Buffer];
  closed: [reason: CloseReason];
}

/**
 * A WHIP publisher: receives one audio and/or one video track over werift, assembles video frames and hands them
 * (and raw Opus payloads) to the room. Detects lost connections: ICE/DTLS failure, or no media for `timeoutMs`.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  readonly createdAt = new Date();
  private videoTrack?: MediaStreamTrack;
  private videoReceiverPli?: (ssrc: number) => Promise<void>;
  private lastPliAt = 0;
  private lastMediaAt = Date.now();
  private watchdog?: NodeJS.Timeout;
  private disconnectedSince?: number;
  private closed = false;
  packetsIn = 0;
  bytesIn = 0;
  framesIn = 0;
  pliSent = 0;

  constructor(
    readonly id: string,
    readonly identity: string,
    readonly displayName: string | undefined,
    readonly pc: RTCPeerConnection,
    readonly videoCodec: 'vp8' | 'h264' | undefined,
    readonly hasAudio: boolean,
    private readonly offerCodecs: OfferCodec[],
    private readonly timeoutMs: number,
    private readonly logger?: Logger,
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
    if (track.kind === 'audio') {
      track.onReceiveRtp.subscribe((rtp) => {
        this.count(rtp);
        this.emit('audio', rtp.payload);
      });
      return;
    }
    if (!this.videoCodec) return;
    this.videoTrack = track;
    const receiver = this.pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
    if (receiver) this.videoReceiverPli = (ssrc) => receiver.sendRtcpPLI(ssrc);
    const jitter = new JitterBufferBase(90000, { latency: 150, bufferSize: 2000 });
    const codecName = this.videoCodec === 'vp8' ? 'VP8' : 'MPEG4/ISO/AVC';
    let depacketizer = new DepacketizeBase(codecName, { isFinalPacketInSequence: (h: RtpHeader) => h.marker });
    const ptOk = new Set(this.offerCodecs.filter((c) => c.name.toLowerCase() === this.videoCodec).map((c) => c.payloadType));
    track.onReceiveRtp.subscribe((rtp) => {
      this.count(rtp);
      if (ptOk.size && !ptOk.has(rtp.header.payloadType)) return; // RTX/RED/other codecs are not decoded
      for (const j of jitter.processInput({ rtp })) {
        if (j.isPacketLost) {
          // A gap the jitter buffer gave up on: the next frames are broken until a keyframe.
          depacketizer = new DepacketizeBase(codecName, { isFinalPacketInSequence: (h: RtpHeader) => h.marker });
          this.requestKeyframe();
        }
        if (!j.rtp) continue;
        for (const d of depacketizer.processInput({ rtp: j.rtp })) {
          if (!d.frame) continue;
          this.framesIn++;
          const isKeyframe = d.frame.isKeyframe || (this.videoCodec === 'h264' && annexBIsKeyframe(d.frame.data));
          this.emit('video', { data: d.frame.data, isKeyframe, timestamp: j.rtp.header.timestamp });
        }
      }
    });
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
    this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
