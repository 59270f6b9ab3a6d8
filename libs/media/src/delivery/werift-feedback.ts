import { RecvDelta, RunLengthChunk, StatusVectorChunk, TransportWideCC, type RTCRtpSender, type RtpPacket } from 'werift';
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

/**
 * werift parses every transport-wide feedback it receives (TransportWideCC.deSerialize) reading each bit through a
 * string (`getBit`: toString(2), split, join, parseInt) and building each chunk and delta with Object.defineProperty:
 * ~60 µs for a feedback of 20 packets, which a viewer sends 10-20 times a second. This parses the same bytes into the
 * same objects (the same classes, fields and values: the unit test compares them with werift's for run-length and
 * both kinds of status vector chunks, small and large deltas) with byte arithmetic. Malformed feedback (chunks or deltas
 * past the end) throws, as werift's mostly does; RtcpPacketConverter then drops that packet. Installed once, for the
 * process (werift's module is shared), by the first Subscriber.
 */
export function installFastTwccParser(): void {
  const target = TransportWideCC as unknown as { deSerialize: (data: Buffer, header: unknown) => TransportWideCC; fastParser?: boolean };
  if (target.fastParser) return;
  target.fastParser = true;
  target.deSerialize = parseTwcc;
}

const RUN_LENGTH_PROTO = RunLengthChunk.prototype as object;
const STATUS_VECTOR_PROTO = StatusVectorChunk.prototype as object;
const RECV_DELTA_PROTO = RecvDelta.prototype as object;

/** An object of werift's class with its fields in its own order (what its constructor makes, without defineProperty). */
function make<T>(proto: object, fields: Record<string, unknown>): T {
  return Object.assign(Object.create(proto) as object, fields) as T;
}

function parseTwcc(data: Buffer, header: unknown): TransportWideCC {
  if (data.length < 16) throw new RangeError('transport-wide feedback: short');
  const senderSsrc = data.readUInt32BE(0);
  const mediaSsrc = data.readUInt32BE(4);
  const baseSequenceNumber = data.readUInt16BE(8);
  const packetStatusCount = data.readUInt16BE(10);
  const referenceTime = data.readUIntBE(12, 3);
  const fbPktCount = data[15];
  const packetChunks: Array<RunLengthChunk | StatusVectorChunk> = [];
  const deltaTypes: number[] = [];
  let pos = 16;
  for (let processed = 0; processed < packetStatusCount; ) {
    if (pos + 2 > data.length) throw new RangeError('transport-wide feedback: chunks past the end');
    const b0 = data[pos];
    const b1 = data[pos + 1];
    if ((b0 & 0x80) === 0) {
      const packetStatus = (b0 >> 5) & 0x03;
      const runLength = ((b0 & 0x1f) << 8) | b1;
      const n = Math.min(packetStatusCount - processed, runLength);
      if (packetStatus === 1 || packetStatus === 2) for (let i = 0; i < n; i++) deltaTypes.push(packetStatus);
      processed += n;
      packetChunks.push(make<RunLengthChunk>(RUN_LENGTH_PROTO, { type: 0, packetStatus, runLength }));
    } else {
      const symbolSize = (b0 >> 6) & 0x01;
      const symbolList: number[] = [];
      const bits = ((b0 & 0x3f) << 8) | b1; // 14 bits of symbols, first symbol highest
      if (symbolSize === 0) {
        for (let i = 13; i >= 0; i--) symbolList.push((bits >> i) & 1);
        for (const v of symbolList) if (v === 1) deltaTypes.push(1);
      } else {
        for (let i = 12; i >= 0; i -= 2) symbolList.push((bits >> i) & 3);
        for (const v of symbolList) if (v === 1 || v === 2) deltaTypes.push(v);
      }
      processed += symbolList.length;
      packetChunks.push(make<StatusVectorChunk>(STATUS_VECTOR_PROTO, { type: 1, symbolSize, symbolList }));
    }
    pos += 2;
  }
  const recvDeltas: RecvDelta[] = new Array<RecvDelta>(deltaTypes.length);
  for (let i = 0; i < deltaTypes.length; i++) {
    const type = deltaTypes[i];
    let delta: number;
    if (type === 1) {
      if (pos + 1 > data.length) throw new RangeError('transport-wide feedback: deltas past the end');
      delta = 250 * data[pos++];
    } else {
      if (pos + 2 > data.length) throw new RangeError('transport-wide feedback: deltas past the end');
      delta = 250 * data.readInt16BE(pos);
      pos += 2;
    }
    recvDeltas[i] = make<RecvDelta>(RECV_DELTA_PROTO, { type, delta, parsed: false });
  }
  return new TransportWideCC({
    senderSsrc,
    mediaSourceSsrc: mediaSsrc,
    baseSequenceNumber,
    packetStatusCount,
    referenceTime,
    fbPktCount,
    recvDeltas,
    packetChunks,
    header: header as TransportWideCC['header'],
  });
}
