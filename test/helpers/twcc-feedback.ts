/**
 * Transport-wide congestion control feedback as a browser sends it (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * §3.1), for the werift test viewer: werift's own receiver-side feedback cannot be parsed back when a packet is missing
 * (it leaves gaps out of its status chunks), which is exactly when it matters. Pure: arrival times are passed in.
 */
export interface TwccArrival {
  seq: number;
  /** Arrival time in microseconds (any monotonic clock); undefined: not received. */
  atUs?: number;
}

const NOT_RECEIVED = 0;
const SMALL_DELTA = 1;
const LARGE_DELTA = 2;

/** One RTCP transport-layer feedback packet (PT 205, FMT 15) reporting `arrivals` (consecutive sequence numbers, oldest first). */
export function buildTwccFeedback(o: { senderSsrc: number; mediaSsrc: number; fbCount: number; arrivals: readonly TwccArrival[] }): Buffer {
  const arrivals = o.arrivals;
  if (arrivals.length === 0 || arrivals.length > 0xffff) throw new RangeError('1..65535 packets per feedback');
  const firstAt = arrivals.find((a) => a.atUs !== undefined)?.atUs;
  if (firstAt === undefined) throw new RangeError('a feedback reports at least one received packet');
  const refTime = Math.floor(firstAt / 64_000); // 24-bit, 64 ms units
  let prevUs = refTime * 64_000;
  const statuses: number[] = [];
  const deltas: Buffer[] = [];
  for (const a of arrivals) {
    if (a.atUs === undefined) {
      statuses.push(NOT_RECEIVED);
      continue;
    }
    const ticks = Math.round((a.atUs - prevUs) / 250); // 250 µs units
    prevUs += ticks * 250;
    if (ticks >= 0 && ticks <= 255) {
      statuses.push(SMALL_DELTA);
      deltas.push(Buffer.from([ticks]));
    } else {
      statuses.push(LARGE_DELTA);
      const b = Buffer.alloc(2);
      b.writeInt16BE(Math.max(-32768, Math.min(32767, ticks)));
      deltas.push(b);
    }
  }
  // run-length chunks: 0 | S(2) | run(13)
  const chunks: Buffer[] = [];
  for (let i = 0; i < statuses.length; ) {
    let j = i;
    while (j < statuses.length && statuses[j] === statuses[i] && j - i < 0x1fff) j++;
    const c = Buffer.alloc(2);
    c.writeUInt16BE((statuses[i] << 13) | (j - i));
    chunks.push(c);
    i = j;
  }
  const body = Buffer.concat([Buffer.alloc(8), ...chunks, ...deltas]);
  body.writeUInt16BE(arrivals[0].seq & 0xffff, 0);
  body.writeUInt16BE(arrivals.length, 2);
  body.writeUIntBE(refTime & 0xffffff, 4, 3);
  body.writeUInt8(o.fbCount & 0xff, 7);
  const padded = Math.ceil(body.length / 4) * 4;
  const pad = padded - body.length;
  const out = Buffer.alloc(12 + padded);
  out[0] = 0x80 | (pad ? 0x20 : 0) | 15; // V=2, P, FMT=15
  out[1] = 205;
  out.writeUInt16BE((out.length >> 2) - 1, 2);
  out.writeUInt32BE(o.senderSsrc >>> 0, 4);
  out.writeUInt32BE(o.mediaSsrc >>> 0, 8);
  body.copy(out, 12);
  if (pad) out[out.length - 1] = pad;
  return out;
}

/** Collects arrivals by transport-wide sequence number and hands out what is new since the last feedback. */
export class TwccReceiver {
  private arrivals = new Map<number, number>();
  private next?: number;
  private fbCount = 0;

  received(seq: number, atUs: number): void {
    if (this.next === undefined) this.next = seq;
    if (((seq - this.next) & 0xffff) >= 0x8000) return; // older than what was reported already
    this.arrivals.set(seq, atUs);
  }

  /** A feedback for everything from the last reported number up to the newest arrival, or undefined if nothing new. */
  feedback(senderSsrc: number, mediaSsrc: number): Buffer | undefined {
    if (this.next === undefined || this.arrivals.size === 0) return undefined;
    let newest = this.next;
    for (const s of this.arrivals.keys()) if (((s - newest) & 0xffff) < 0x8000) newest = s;
    const count = ((newest - this.next) & 0xffff) + 1;
    const list: TwccArrival[] = [];
    for (let k = 0; k < count; k++) {
      const seq = (this.next + k) & 0xffff;
      list.push({ seq, atUs: this.arrivals.get(seq) });
    }
    this.arrivals.clear();
    this.next = (newest + 1) & 0xffff;
    return buildTwccFeedback({ senderSsrc, mediaSsrc, fbCount: this.fbCount++, arrivals: list });
  }
}
