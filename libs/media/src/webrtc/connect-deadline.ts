import type { RTCPeerConnection } from 'werift';

/** SESSION_CONNECT_TIMEOUT_SECONDS unless configured. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/**
 * Calls `onTimeout` when the peer connection has not reached `connected` (ICE and DTLS) within `ms` of now: a session
 * whose client never completed its connectivity checks (gone after its POST, or unreachable) would otherwise hold its
 * UDP port, its peer and its place in the room forever (a subscriber is only timed out by silence once connected).
 * Returns a function that cancels the deadline (call it when the session closes).
 */
export function connectDeadline(pc: RTCPeerConnection, ms: number, onTimeout: (state: string) => void): () => void {
  if (pc.connectionState === 'connected') return () => undefined;
  const sub = pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected') cancel();
  });
  const timer = setTimeout(() => {
    sub.unSubscribe();
    if (pc.connectionState !== 'connected') onTimeout(pc.connectionState);
  }, ms);
  const cancel = () => {
    clearTimeout(timer);
    sub.unSubscribe();
  };
  return cancel;
}
