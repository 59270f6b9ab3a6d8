import type { VideoCodec } from '@app/core';
import { EventEmitter } from 'node:events';
import type { RTCPeerConnection } from 'werift';
import type { EncodedFrame } from '../mixer/video-input';
import type { MixSource } from '../room/mix-tap';
import { VideoFrameAssembler } from '../rtp/video-frame-assembler';
import { codecs, createPeer, type RtcNetworkOptions } from './peer-factory';
import { postSdp, SdpPostError } from './post-sdp';
import { parseOffer } from './sdp-offer';

export interface WhepClientEvents {
  video: [frame: EncodedFrame];
  audio: [opus: Buffer, rtpTimestamp: number];
  closed: [reason: string];
}

export interface WhepConnectOptions {
  url: string;
  token: string;
  video: boolean;
  audio: boolean;
  network?: RtcNetworkOptions;
  timeoutMs?: number;
}

/**
 * A server-side WHEP client (werift): how a recording worker, on this host or another, receives a room's encoded mix.
 * Emits whole video frames (H.264 Annex B or VP8) and Opus packets; never decodes anything.
 */
export class WhepClient extends EventEmitter<WhepClientEvents> implements MixSource {
  videoCodec?: VideoCodec;
  resourceUrl = '';
  private closed = false;
  lastMediaAt = Date.now();

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly token: string,
  ) {
    super();
  }

  static async connect(o: WhepConnectOptions): Promise<WhepClient> {
    const pc = createPeer(o.network ?? {}, [codecs.h264(), codecs.vp8()], [codecs.opus()]);
    const client = new WhepClient(pc, o.token);
    if (o.video) pc.addTransceiver('video', { direction: 'recvonly' });
    if (o.audio) pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.onTrack.subscribe((track) => {
      if (track.kind === 'audio') {
        track.onReceiveRtp.subscribe((rtp) => {
          client.lastMediaAt = Date.now();
          client.emit('audio', rtp.payload, rtp.header.timestamp);
        });
        return;
      }
      const receiver = pc.getTransceivers().find((t) => t.receiver.track === track)?.receiver;
      const pli = () => track.ssrc && receiver?.sendRtcpPLI(track.ssrc).catch(() => undefined);
      let assembler: VideoFrameAssembler | undefined;
      track.onReceiveRtp.subscribe((rtp) => {
        client.lastMediaAt = Date.now();
        if (!client.videoCodec) return;
        assembler ??= new VideoFrameAssembler(client.videoCodec, (f) => client.emit('video', f), pli);
        assembler.push(rtp);
      });
    });
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed') client.shutdown(`connection ${s}`);
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        const t = setTimeout(resolve, 3000);
        pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && (clearTimeout(t), resolve()));
      });
      // follows a node's 307/308 to the node hosting the room, keeping the Authorization header (see postSdp)
      const res = await postSdp(o.url, o.token, pc.localDescription!.sdp, { timeoutMs: o.timeoutMs ?? 10_000 });
      if (res.status !== 201) throw new SdpPostError(`WHEP ${res.url} answered ${res.status}: ${res.body.slice(0, 300)}`, res.status);
      const body = res.body;
      client.resourceUrl = res.resourceUrl ?? '';
      const video = parseOffer(body).find((m) => m.kind === 'video' && !m.rejected);
      const first = video?.codecs[0]?.name.toLowerCase();
      client.videoCodec = first === 'h264' ? 'h264' : first === 'vp8' ? 'vp8' : undefined;
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
    } catch (e) {
      // never leave a half-negotiated peer (and its UDP sockets) behind
      await pc.close().catch(() => undefined);
      throw e;
    }
    return client;
  }

  get connected(): boolean {
    return this.pc.connectionState === 'connected';
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
  }

  /** DELETE the session (best effort) and close. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.resourceUrl) {
      await fetch(this.resourceUrl, { method: 'DELETE', headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    }
    this.shutdown('closed');
    this.removeAllListeners();
  }
}
