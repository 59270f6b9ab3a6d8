import { EventEmitter } from 'node:events';
import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import type { Logger } from '../logger';
import { buildRtp } from '../rtp/rtp-bytes';
import type { CloseReason } from './publisher';

/**
 * A WHEP subscriber: one video sender (the room's encoded composite, forwarded packet by packet from the first keyframe)
 * and one audio sender (its mix variant, packetized with this subscriber's own continuous sequence and timestamps).
 */
export class Subscriber extends EventEmitter<{ closed: [reason: CloseReason] }> {
  readonly createdAt = new Date();
  private waitingForKeyframe = true;
  private audioSeq = Math.floor(Math.random() * 0x8000);
  private audioTs = Math.floor(Math.random() * 0x7fffffff);
  private closed = false;
  private lastRtcpAt = 0;
  private readonly watchdog: NodeJS.Timeout;
  static SILENCE_TIMEOUT_MS = 15_000;
  variant = 'all';
  videoPacketsOut = 0;
  audioPacketsOut = 0;
  bytesOut = 0;
  pliReceived = 0;

  constructor(
    readonly id: string,
    readonly identity: string,
    readonly pc: RTCPeerConnection,
    readonly videoSender: RTCRtpSender | undefined,
    readonly audioSender: RTCRtpSender | undefined,
    private readonly logger?: Logger,
    readonly hidden = false,
  ) {
    super();
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed') this.close('connection_lost');
      if (s === 'connected') this.lastRtcpAt = Date.now();
    });
    // werift has no ICE consent checks: a subscriber that vanished is noticed by its silence (no RTCP receiver reports).
    for (const sender of [videoSender, audioSender]) sender?.onRtcp.subscribe(() => (this.lastRtcpAt = Date.now()));
    this.watchdog = setInterval(() => {
      if (this.lastRtcpAt && Date.now() - this.lastRtcpAt > Subscriber.SILENCE_TIMEOUT_MS) {
        this.logger?.warn(`subscriber ${this.id} (${this.identity}) sent no RTCP for ${Date.now() - this.lastRtcpAt} ms; removing`);
        this.close('connection_lost');
      }
    }, 2000);
    videoSender?.onPictureLossIndication.subscribe(() => {
      // ffmpeg cannot force a keyframe on demand; the mix has a 1 s keyframe interval. Counted for metrics.
      this.pliReceived++;
    });
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  sendVideo(packet: Buffer, keyframeStart: boolean): void {
    if (!this.videoSender || !this.connected) return;
    if (this.waitingForKeyframe) {
      if (!keyframeStart) return;
      this.waitingForKeyframe = false;
      this.logger?.debug?.(`subscriber ${this.id}: first keyframe sent`);
    }
    this.videoPacketsOut++;
    this.bytesOut += packet.length;
    // sendRtp parses a Buffer into a fresh packet object, so the shared buffer is never mutated.
    this.videoSender.sendRtp(packet).catch(() => undefined);
  }

  sendAudio(opus: Buffer): void {
    this.audioTs = (this.audioTs + 960) >>> 0;
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    if (!this.audioSender || !this.connected) return;
    const packet = buildRtp({ payloadType: 111, seq: this.audioSeq, timestamp: this.audioTs, ssrc: this.audioSender.ssrc, payload: opus });
    this.audioPacketsOut++;
    this.bytesOut += packet.length;
    this.audioSender.sendRtp(packet).catch(() => undefined);
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
