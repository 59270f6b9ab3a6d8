import { type RTCRtpSender, type RtpPacket, type TransportWideCC } from 'werift';
import type { LinkSample } from './delivery-controller';
import type { TwccResult } from './twcc-tracker';

/** werift glue for a subscriber's delivery: reading transport-wide feedback, taking over NACKs, and log text. */

/** The inputs of a decision, for the log line that says why a subscriber moved. */
export function describe(s: LinkSample): string {
  const t = s.twcc;
  const parts = [`sent ${Math.round(s.sentKbps)} kbps`];
  if (t) parts.push(`feedback: ${Math.round(t.receivedKbps)} kbps received, ${(t.loss * 100).toFixed(1)}% lost, queue ${Math.round(t.queueDelayMs)} ms`);
  if (s.rrLoss !== undefined) parts.push(`receiver report ${(s.rrLoss * 100).toFixed(1)}% lost`);
  if (s.nackRate) parts.push(`NACKed ${(s.nackRate * 100).toFixed(1)}%`);
  if (s.rembKbps !== undefined) parts.push(`REMB ${Math.round(s.rembKbps)} kbps`);
  return parts.join(', ');
}

/**
 * Arrival times (receiver clock, ms, fractional) of a transport-wide feedback's packets, read from its status chunks and
 * receive deltas. werift's own `packetResults` restarts every run-length chunk at the base sequence number, skips status
 * vector chunks (which browsers send most) and rounds each delta to the millisecond, so it cannot be used.
 */
export function twccResults(fb: TransportWideCC): TwccResult[] {
  const out: TwccResult[] = [];
  let seq = fb.baseSequenceNumber;
  let remaining = fb.packetStatusCount;
  let at = fb.referenceTime * 64;
  let d = 0;
  for (const chunk of fb.packetChunks) {
    const statuses: number[] =
      'runLength' in chunk ? new Array<number>(Math.min(chunk.runLength, remaining)).fill(chunk.packetStatus) : chunk.symbolList;
    for (const st of statuses) {
      if (remaining === 0) break;
      remaining--;
      if (st === 1 || st === 2) {
        at += (fb.recvDeltas[d++]?.delta ?? 0) / 1000;
        out.push({ seq, receivedAtMs: at });
      } else out.push({ seq });
      seq = (seq + 1) & 0xffff;
    }
  }
  return out;
}

/**
 * werift answers NACKs itself from a 128-packet cache (under 1 s of high), unbudgeted. We answer them from our own
 * history instead (Subscriber.onNack): keep its cache empty. Its NACK event still fires.
 */
export function disableWeriftRetransmissions(sender: RTCRtpSender): void {
  const empty = new Proxy([] as RtpPacket[], { set: () => true, get: (t, k) => (k === 'length' ? 0 : typeof k === 'string' && /^\d+$/.test(k) ? undefined : Reflect.get(t, k)) });
  Object.defineProperty(sender, 'rtpCache', { get: () => empty, set: () => undefined, configurable: true });
}
