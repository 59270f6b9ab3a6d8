/**
 * The receiving half of RFC 6347 §4.2.2 (handshake message sequencing), which werift 0.24 lacks: handshake messages
 * are handed on strictly in `message_seq` order, each once. A message ahead of the next expected one waits for the
 * gap to fill (the peer's retransmissions fill it); one behind it is a retransmission and is dropped, unless the
 * caller says it must be answered again (a flight that werift never retransmits by itself).
 *
 * Pure: no sockets, no timers; the time is passed in. `werift-dtls-dedup.ts` feeds it from werift's DTLS sockets.
 */
export interface HandshakeUnit {
  /** Handshake message type (1 ClientHello, 2 ServerHello, ..., 20 Finished). */
  type: number;
  seq: number;
  /** This fragment's place in the message, and the message's whole length. */
  offset: number;
  fragmentLength: number;
  length: number;
  /** What to hand on (a record holding this fragment). */
  bytes: Buffer;
}

interface Pending {
  since: number;
  fragments: Map<number, HandshakeUnit>;
}

/** Are a message's fragments all here (they cover 0..length)? */
function complete(p: Pending): boolean {
  const frags = [...p.fragments.values()].sort((a, b) => a.offset - b.offset);
  const length = frags[0]?.length ?? 0;
  let covered = 0;
  for (const f of frags) {
    if (f.offset > covered) return false;
    covered = Math.max(covered, f.offset + f.fragmentLength);
  }
  return frags.length > 0 && covered >= length;
}

export interface SequencerOptions {
  /** A repeated (already handed on) message of this type is handed on again. */
  answerAgain?: (type: number) => boolean;
  /**
   * When nothing has been handed on yet, a complete message that has waited this long for message_seq 0 is handed on
   * anyway: a peer whose first message is numbered otherwise (RFC-conformant peers, werift's among them, start at 0).
   * A gap later on is never skipped: it is a lost message, and the peer's retransmission fills it (skipping it would
   * hand messages on out of order, and then drop the late one as a repeat: a repro with 25 % loss stalled so).
   * Default 1500 ms.
   */
  skipGapAfterMs?: number;
  /** At most this many messages wait; a flood of future sequence numbers is dropped. Default 32. */
  maxPending?: number;
  /** Told of each repeat dropped (the peer retransmitted: it may be waiting for our last flight). */
  onRepeat?: (u: HandshakeUnit) => void;
  /** Where to count repeats and skipped gaps (several sequencers may share one); default, its own. */
  stats?: { repeats: number; skipped: number };
}

export class HandshakeSequencer {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly answerAgain: (type: number) => boolean;
  private readonly skipGapAfterMs: number;
  private readonly maxPending: number;
  private readonly onRepeat: (u: HandshakeUnit) => void;
  /** Repeats dropped, gaps skipped (for logs and tests). */
  readonly stats: { repeats: number; skipped: number };

  constructor(o: SequencerOptions = {}) {
    this.answerAgain = o.answerAgain ?? (() => false);
    this.skipGapAfterMs = o.skipGapAfterMs ?? 1500;
    this.maxPending = o.maxPending ?? 32;
    this.onRepeat = o.onRepeat ?? (() => undefined);
    this.stats = o.stats ?? { repeats: 0, skipped: 0 };
  }

  /** The next message_seq expected. */
  get expected(): number {
    return this.next;
  }

  /** One received fragment; returns what to hand on now, in order (possibly nothing). */
  receive(u: HandshakeUnit, now: number): HandshakeUnit[] {
    if (u.seq < this.next) {
      if (this.answerAgain(u.type)) return [u];
      this.stats.repeats++;
      this.onRepeat(u);
      return this.drain(now);
    }
    let p = this.pending.get(u.seq);
    if (!p) {
      if (this.pending.size >= this.maxPending) return this.drain(now);
      p = { since: now, fragments: new Map() };
      this.pending.set(u.seq, p);
    }
    if (p.fragments.has(u.offset)) this.stats.repeats++;
    else p.fragments.set(u.offset, u);
    return this.drain(now);
  }

  /** Hands on every complete message from the next expected one on (and skips a first gap that has lasted too long). */
  drain(now: number): HandshakeUnit[] {
    const out: HandshakeUnit[] = [];
    for (;;) {
      const p = this.pending.get(this.next);
      if (p && complete(p)) {
        out.push(...[...p.fragments.values()].sort((a, b) => a.offset - b.offset));
        this.pending.delete(this.next);
        this.next++;
        continue;
      }
      const ahead = [...this.pending.entries()].filter(([seq, q]) => seq > this.next && complete(q)).sort(([a], [b]) => a - b)[0];
      if (ahead && this.next === 0 && now - ahead[1].since >= this.skipGapAfterMs) {
        this.stats.skipped++;
        for (const seq of this.pending.keys()) if (seq < ahead[0]) this.pending.delete(seq);
        this.next = ahead[0];
        continue;
      }
      return out;
    }
  }
}
