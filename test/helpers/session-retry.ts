/**
 * A WHIP/WHEP test client that tries once more when its session stalls in the DTLS handshake, as a real client
 * (and the web client) does with a session that does not connect.
 *
 * Why: between two werift peers on a heavily loaded machine, a handshake used to stall for good after ICE connected
 * (ICE connected, DTLS connecting; about one join in a few hundred across a suite run): werift handled reordered and
 * repeated handshake messages as new. The server and the test clients now feed werift its handshake in order
 * (libs/media/src/webrtc/werift-dtls-order.ts, README "Limitations"), so this should no longer fire; if it does, the
 * warning in the test log says so. Such a session is replaced by a new one once; a second stall, or any other failure,
 * still fails the test.
 */
import type { RTCPeerConnection } from 'werift';

export interface RetryableSession {
  readonly pc: RTCPeerConnection;
  connected(): Promise<void>;
  close(): Promise<void>;
}

/** Is this peer stuck in the DTLS handshake with ICE connected (the stall this retries), rather than failing otherwise? */
export const stalledInDtls = (pc: RTCPeerConnection): boolean =>
  pc.connectionState === 'connecting' && ['connected', 'completed'].includes(pc.iceConnectionState) && pc.dtlsTransports.some((d) => d.state === 'connecting');

/**
 * Starts a session with `start`; if it has not connected within `stallMs` and is stalled in DTLS, starts another once
 * (the same identity: it replaces the stalled one) and closes the stalled peer. The result forwards every property to
 * the current session, so `pc`, `resourceUrl`, stats and frames are those of the session that connected.
 * `stallMs` is 5 s: a handshake takes well under 1.5 s here even with 40 viewers joining, and the server removes a
 * publisher that sent no media after PUBLISHER_TIMEOUT_SECONDS (5) + 5 s, after which a replacement would no longer
 * find its tile's place.
 */
export async function withDtlsRetry<T extends RetryableSession>(start: () => Promise<T>, label: string, stallMs = 5000): Promise<T> {
  let current = await start();
  const first = current.connected();
  first.catch(() => undefined);
  const connectedP = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const stalled = await Promise.race([
      first.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(stalledInDtls(current.pc)), stallMs))),
    ]).finally(() => clearTimeout(timer));
    if (!stalled) return first;
    console.warn(`[test client] ${label}: DTLS handshake stalled ${stallMs} ms after ICE connected; starting a new session that replaces it`);
    // a new session of the same identity replaces the stalled one on the server (and takes its tile's place in the
    // join order); the stalled peer is then closed without a DELETE
    const old = current;
    current = await start();
    await old.close().catch(() => undefined);
    return current.connected();
  })();
  connectedP.catch(() => undefined);
  return new Proxy({} as T, {
    get: (_t, key) => {
      if (key === 'connected') return () => connectedP;
      const v = (current as unknown as Record<string | symbol, unknown>)[key];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
    },
  });
}
