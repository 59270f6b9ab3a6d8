import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RTCPeerConnection } from 'werift';
import { answerOffer, codecs, createPeer, SRTP_PROFILES } from './peer-factory';

/** Connects a werift client (the offerer, DTLS server) to a server peer and returns the negotiated SRTP profile. */
async function negotiated(srtpProfiles?: readonly number[]): Promise<number | undefined> {
  const client = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, bundlePolicy: 'max-bundle', codecs: { video: [codecs.vp8()] } });
  const server = createPeer({ loopback: true }, [codecs.vp8()], [], undefined, srtpProfiles ? { srtpProfiles } : {});
  try {
    server.addTransceiver('video', { direction: 'sendonly' });
    client.addTransceiver('video', { direction: 'recvonly' });
    await client.setLocalDescription(await client.createOffer());
    if (client.iceGatheringState !== 'complete') await client.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
    const answer = await answerOffer(server, client.localDescription!.sdp);
    await client.setRemoteDescription({ type: 'answer', sdp: answer });
    if (server.connectionState !== 'connected') await server.connectionStateChange.watch((s) => s === 'connected', 15000);
    return (server.dtlsTransports[0] as unknown as { srtp?: { localContext?: { profile: number } } }).srtp?.localContext?.profile;
  } finally {
    await Promise.allSettled([client.close(), server.close()]);
  }
}

describe('createPeer srtpProfiles', () => {
  jest.setTimeout(30000);
  it("keeps werift's list by default (a werift DTLS server picks GCM)", async () => {
    expect(await negotiated()).toBe(ProtectionProfileAeadAes128Gcm);
  });
  it('offers only the profiles given (AES-CM only: what a libwebrtc viewer negotiates)', async () => {
    expect(await negotiated(SRTP_PROFILES.aesCm)).toBe(ProtectionProfileAes128CmHmacSha1_80);
  });
});
