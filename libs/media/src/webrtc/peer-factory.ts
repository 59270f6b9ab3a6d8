import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/** Network settings for the server's peer connections (from config: RTC_MIN/MAX_PORT, PUBLIC_IP). */
export interface RtcNetworkOptions {
  portRange?: [number, number];
  publicIp?: string;
  /** Also offer a 127.0.0.1 candidate (loopback clients, tests). */
  loopback?: boolean;
}

const videoFeedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }];

export const H264_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';

export const codecs = {
  vp8: () => new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: videoFeedback }),
  h264: () =>
    new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, payloadType: 102, rtcpFeedback: videoFeedback, parameters: H264_FMTP }),
  opus: () => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
};

export function createPeer(net: RtcNetworkOptions, video: RTCRtpCodecParameters[], audio: RTCRtpCodecParameters[]): RTCPeerConnection {
  const extra = [...(net.publicIp ? [net.publicIp] : []), ...(net.loopback !== false ? ['127.0.0.1'] : [])];
  return new RTCPeerConnection({
    // The server gathers host candidates only; STUN/TURN servers are for clients (handed out by the API).
    iceServers: [],
    codecs: { video, audio },
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
