import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpHeaderExtensionParameters, useTransportWideCC, useTWCC } from 'werift';

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
  rtx: (videoCodec: 'vp8' | 'h264') =>
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

export function createPeer(
  net: RtcNetworkOptions,
  video: RTCRtpCodecParameters[],
  audio: RTCRtpCodecParameters[],
  headerExtensions?: { video: RTCRtpHeaderExtensionParameters[]; audio: RTCRtpHeaderExtensionParameters[] },
): RTCPeerConnection {
  const extra = [...(net.publicIp ? [net.publicIp] : []), ...(net.loopback !== false ? ['127.0.0.1'] : [])];
  return new RTCPeerConnection({
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
