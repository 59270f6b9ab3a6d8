/**
 * Shared plumbing for the WHIP publisher and the WHEP subscriber helpers: werift peer configuration, codecs,
 * non-trickle WHIP/WHEP signalling over node:http (no keep-alive, so jest exits cleanly) and state waits.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  useNACK,
  usePLI,
  useREMB,
  type RTCPeerConnectionConfig,
} from 'werift';
import { installDtlsHandshakeOrdering } from '../../libs/media/src/webrtc/werift-dtls-order';

export const H264_FMTP = 'packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1';

export function vp8Codec(payloadType = 96): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/VP8',
    clockRate: 90000,
    payloadType,
    rtcpFeedback: [useNACK(), usePLI(), useREMB()],
  });
}

export function h264Codec(payloadType = 102): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    payloadType,
    parameters: H264_FMTP,
    rtcpFeedback: [useNACK(), usePLI(), useREMB()],
  });
}

export function opusCodec(payloadType = 111): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType });
}

/** Options shared by the helpers' peers. */
export interface PeerNetworkOptions {
  /** Extra host addresses for ICE (default ['127.0.0.1'] so loopback candidates exist). */
  iceAdditionalHostAddresses?: string[];
  /** ms to wait for the connection (default 15000). */
  connectTimeoutMs?: number;
}

export function createPeer(
  codecs: { video?: RTCRtpCodecParameters[]; audio?: RTCRtpCodecParameters[] },
  net: PeerNetworkOptions = {},
  extra: Partial<RTCPeerConnectionConfig> = {},
): RTCPeerConnection {
  // the test clients are werift peers too: the same fix as the server's for werift's DTLS stall under reordering
  installDtlsHandshakeOrdering();
  const config: RTCPeerConnectionConfig = {
    iceServers: [],
    iceAdditionalHostAddresses: net.iceAdditionalHostAddresses ?? ['127.0.0.1'],
    iceUseIpv6: false,
    // One transport for all m-lines from the start: with werift's default (max-compat) the per-m-line transports
    // that BUNDLE makes redundant are never closed and leak their UDP sockets.
    bundlePolicy: 'max-bundle',
    codecs,
    ...extra,
  };
  return new RTCPeerConnection(config);
}

export async function waitIceGatheringComplete(pc: RTCPeerConnection, timeoutMs = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await pc.iceGatheringStateChange.watch((s) => s === 'complete', timeoutMs);
}

/**
 * A real werift offer with its ICE candidates gathered (non-trickle), as a WHIP client (`sendonly`, with tracks) or a
 * WHEP client (`recvonly`) sends it. The peer is returned too: the caller closes it (or drops it silently).
 */
export async function gatheredOffer(direction: 'sendonly' | 'recvonly' = 'sendonly', video: RTCRtpCodecParameters[] = [vp8Codec()]): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = createPeer({ video, audio: [opusCodec()] });
  for (const kind of ['video', 'audio'] as const) {
    if (direction === 'recvonly') pc.addTransceiver(kind, { direction });
    else pc.addTransceiver(new MediaStreamTrack({ kind }), { direction });
  }
  await pc.setLocalDescription(await pc.createOffer());
  await waitIceGatheringComplete(pc);
  return { pc, sdp: pc.localDescription?.sdp ?? '' };
}

/**
 * Resolves when the peer is `connected` (ICE + DTLS), rejects when it fails, closes or times out.
 * The returned promise never causes an unhandled rejection by itself.
 */
export function whenConnected(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  const p = new Promise<void>((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    const timer = setTimeout(() => {
      sub.unSubscribe();
      // ICE and DTLS apart: a test peer was seen stuck in 'connecting' under load, and which half stalls is the question
      const dtls = pc.dtlsTransports.map((d) => d.state).join('/') || 'none';
      reject(new Error(`peer not connected after ${timeoutMs} ms (state ${pc.connectionState}, ICE ${pc.iceConnectionState}, DTLS ${dtls})`));
    }, timeoutMs);
    const sub = pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        clearTimeout(timer);
        sub.unSubscribe();
        reject(new Error(`peer connection ${state} before connecting`));
      }
    });
  });
  p.catch(() => undefined);
  return p;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP(S) request without keep-alive. */
export function httpRequest(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
  timeoutMs = 10000,
): Promise<HttpResult> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise<HttpResult>((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method,
        agent: false,
        headers: {
          ...headers,
          Connection: 'close',
          ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no response after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POST an SDP offer, following a node's 307/308 to the node hosting the room (at most `maxRedirects` hops) with the
 * Authorization header kept (another node is another origin); each Location is resolved against the URL that sent it.
 * Returns the final answer and the URL that gave it.
 */
export async function postOffer(endpoint: string, token: string, sdp: string, maxRedirects = 3): Promise<HttpResult & { url: string }> {
  let url = endpoint;
  for (let hop = 0; ; hop++) {
    const res = await httpRequest('POST', url, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp', Accept: 'application/sdp' }, sdp);
    const location = res.headers.location;
    if ((res.status !== 307 && res.status !== 308) || !location) return { ...res, url };
    if (hop >= maxRedirects) throw new Error(`POST ${endpoint}: more than ${maxRedirects} redirects (last to ${location})`);
    url = new URL(location, url).toString();
  }
}

/** Checks a WHIP/WHEP answer to postOffer and returns the absolute resource URL (Location resolved against the answering URL). */
export function answerResource(res: HttpResult & { url: string }): string {
  if (res.status !== 201) throw new Error(`POST ${res.url} answered ${res.status} (expected 201): ${res.body.slice(0, 500)}`);
  const location = res.headers.location;
  if (!location) throw new Error(`POST ${res.url} answered 201 without a Location header`);
  if (!res.body.startsWith('v=0')) throw new Error(`POST ${res.url} answered 201 without an SDP body: ${res.body}`);
  return new URL(location, res.url).toString();
}

/**
 * Non-trickle WHIP/WHEP exchange: create the offer, wait for ICE gathering to complete, POST it (following redirects to
 * the hosting node), apply the answer. Returns the absolute resource URL (the Location header resolved against the URL
 * that answered 201).
 */
export async function signal(pc: RTCPeerConnection, endpoint: string, token: string): Promise<string> {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await waitIceGatheringComplete(pc);
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no local description after gathering');
  const res = await postOffer(endpoint, token, sdp);
  const resourceUrl = answerResource(res);
  await pc.setRemoteDescription({ type: 'answer', sdp: res.body });
  return resourceUrl;
}

/** DELETE the WHIP/WHEP resource; returns the status (does not throw on 4xx/5xx, only on network errors). */
export async function deleteResource(resourceUrl: string, token: string): Promise<number> {
  const res = await httpRequest('DELETE', resourceUrl, { Authorization: `Bearer ${token}` });
  return res.status;
}

/** A WHEP/WHIP client's goodbye: DELETE its resource, then close the peer (even if the DELETE failed). */
export async function deleteThenClose(resourceUrl: string, token: string, close: () => Promise<void>): Promise<number> {
  try {
    return await deleteResource(resourceUrl, token);
  } finally {
    await close();
  }
}

/**
 * If the peer is still connecting, wait (up to `timeoutMs`) for it to connect or fail before it gets closed:
 * werift's DTLS handshake retransmission loop cannot be cancelled, so closing either side mid-handshake leaves
 * timers running for ~30 s (and keeps jest from exiting), on the server side too.
 */
export async function settleBeforeClose(pc: RTCPeerConnection, timeoutMs = 2000): Promise<void> {
  const state = pc.connectionState;
  if (!pc.remoteDescription || (state !== 'new' && state !== 'connecting')) return;
  await whenConnected(pc, timeoutMs).catch(() => undefined);
}

/**
 * Silence a peer as if its network vanished: close the ICE sockets first (so nothing, not even a STUN
 * consent reply, leaves any more), then release werift's state. werift sends no DTLS close_notify nor RTCP BYE.
 */
export async function dropPeerSilently(pc: RTCPeerConnection): Promise<void> {
  for (const t of pc.iceTransports) {
    await t.connection.close().catch(() => undefined);
  }
  await pc.close().catch(() => undefined);
}
