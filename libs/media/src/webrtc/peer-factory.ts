import type { VideoCodec } from '@app/core';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpHeaderExtensionParameters,
  useTransportWideCC,
  useTWCC,
} from 'werift';
import { installDtlsHandshakeOrdering } from './werift-dtls-order';
import { installNativeX25519 } from './werift-dtls-x25519';

/** Network settings for the server's peer connections (from config: RTC_MIN/MAX_PORT, PUBLIC_IP). */
export interface RtcNetworkOptions {
  portRange?: [number, number];
  publicIp?: string;
  /** Also offer a 127.0.0.1 candidate (loopback clients, tests). */
  loopback?: boolean;
}

const videoFeedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }];
/** What a WHEP subscriber may send about the video it receives: also transport-wide feedback (with the extension below). */
const subscriberFeedback = [...videoFeedback, useTWCC()];

export const H264_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';

export const codecs = {
  vp8: (subscriber = false) =>
    new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: subscriber ? subscriberFeedback : videoFeedback }),
  h264: (subscriber = false) =>
    new RTCRtpCodecParameters({
      mimeType: 'video/H264',
      clockRate: 90000,
      payloadType: 102,
      rtcpFeedback: subscriber ? subscriberFeedback : videoFeedback,
      parameters: H264_FMTP,
    }),
  /** Retransmissions (and probes) on their own stream, for a subscriber whose offer has RTX for the room's codec. */
  rtx: (videoCodec: VideoCodec) =>
    new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90000, payloadType: videoCodec === 'h264' ? 103 : 97, parameters: `apt=${videoCodec === 'h264' ? 102 : 96}` }),
  opus: () => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
};

/**
 * Header extensions the server's peers accept: transport-wide sequence numbers on what a WHEP subscriber receives, so
 * its transport-cc feedback tells us its downlink (answered only when the offer has them, as browsers' do).
 */
export const subscriberExtensions = (): { video: RTCRtpHeaderExtensionParameters[]; audio: RTCRtpHeaderExtensionParameters[] } => ({
  video: [useTransportWideCC()],
  audio: [useTransportWideCC()],
});

/** Did the answer accept transport-wide congestion control (the header extension and the transport-cc feedback)? */
export const answersTransportCc = (sdp: string): boolean =>
  /a=extmap:\d+(\/\w+)? http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/.test(sdp) && /a=rtcp-fb:\d+ transport-cc/.test(sdp);

/**
 * SRTP protection profiles, for `PeerOptions.srtpProfiles`. In DTLS-SRTP the DTLS server picks the profile (RFC 5764
 * 4.1.1); werift answering an offer is the DTLS client (setup:active), so for WHIP/WHEP the client's side decides, from
 * what we offer: libwebrtc (Chrome, Safari, Edge) picks AES_CM_128_HMAC_SHA1_80 over GCM itself, werift takes GCM.
 * Measured (bench/fanout-micro, README "Fan-out cost per viewer"): our fast path protects a 1200-byte packet faster
 * with GCM than with AES-CM + HMAC-SHA1 on Node 20, so the server's peers keep werift's own list (GCM first).
 */
export const SRTP_PROFILES = {
  /** werift's own list, what the server's peers offer. */
  werift: [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80] as readonly number[],
  /** AES_CM_128_HMAC_SHA1_80 only: what libwebrtc viewers negotiate (the profile every WebRTC endpoint implements). */
  aesCm: [ProtectionProfileAes128CmHmacSha1_80] as readonly number[],
  /** AEAD_AES_128_GCM only. */
  gcm: [ProtectionProfileAeadAes128Gcm] as readonly number[],
};

export interface PeerOptions {
  /** SRTP protection profiles offered in DTLS, most preferred first (default: werift's, GCM first). */
  srtpProfiles?: readonly number[];
}

export function createPeer(
  net: RtcNetworkOptions,
  video: RTCRtpCodecParameters[],
  audio: RTCRtpCodecParameters[],
  headerExtensions?: { video: RTCRtpHeaderExtensionParameters[]; audio: RTCRtpHeaderExtensionParameters[] },
  options: PeerOptions = {},
): RTCPeerConnection {
  installNativeX25519(); // DTLS key exchange in OpenSSL, not tweetnacl: ~75 ms less of the room's thread per join
  installDtlsHandshakeOrdering(); // handshake messages in order and once: werift's DTLS stalled on reordered datagrams
  const extra = [...(net.publicIp ? [net.publicIp] : []), ...(net.loopback !== false ? ['127.0.0.1'] : [])];
  const pc = new RTCPeerConnection({
    // The server gathers host candidates only; STUN/TURN servers are for clients (handed out by the API).
    iceServers: [],
    codecs: { video, audio },
    ...(headerExtensions ? { headerExtensions } : {}),
    ...(net.portRange ? { icePortRange: net.portRange } : {}),
    ...(extra.length ? { iceAdditionalHostAddresses: extra } : {}),
    iceUseIpv6: false,
    // werift's default (max-compat) keeps the transports that BUNDLE made redundant open: one leaked UDP socket per m-line.
    bundlePolicy: 'max-bundle',
  });
  if (options.srtpProfiles) setSrtpProfiles(pc, options.srtpProfiles);
  return pc;
}

/**
 * werift passes every DTLS transport the same module-level profile list and has no setting for it: give this peer's
 * transports (made later, on the first transceiver or remote description) their own list, read when DTLS starts.
 */
function setSrtpProfiles(pc: RTCPeerConnection, profiles: readonly number[]): void {
  const manager = (pc as unknown as { secureManager?: { createTransport?: () => { srtpProfiles: number[] } } }).secureManager;
  const create = manager?.createTransport;
  if (!manager || typeof create !== 'function') throw new Error('werift: no SecureTransportManager.createTransport to set SRTP profiles on');
  manager.createTransport = () => {
    const t = create.call(manager);
    t.srtpProfiles = [...profiles];
    return t;
  };
}

/** Applies the offer, creates the answer and waits for ICE gathering to finish (WHIP/WHEP are not trickled here). */
export async function answerOffer(pc: RTCPeerConnection, offer: string, timeoutMs = 5000): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no local description after answering');
  return sdp;
}
