import { HandshakeSequencer, type HandshakeUnit } from './dtls-handshake-sequencer';

const unit = (seq: number, type = 10 + seq, offset = 0, fragmentLength = 100, length = 100): HandshakeUnit => ({
  type,
  seq,
  offset,
  fragmentLength,
  length,
  bytes: Buffer.from(`${seq}:${offset}`),
});
const names = (us: HandshakeUnit[]) => us.map((u) => u.bytes.toString());

describe('HandshakeSequencer (RFC 6347 §4.2.2 receive order)', () => {
  it('hands messages on in message_seq order, holding those that come early', () => {
    const s = new HandshakeSequencer();
    expect(names(s.receive(unit(0), 0))).toEqual(['0:0']);
    expect(names(s.receive(unit(2), 1))).toEqual([]);
    expect(names(s.receive(unit(3), 2))).toEqual([]);
    expect(names(s.receive(unit(1), 3))).toEqual(['1:0', '2:0', '3:0']);
    expect(s.expected).toBe(4);
  });

  it('drops a repeat, of a message handed on or of one waiting', () => {
    const s = new HandshakeSequencer();
    s.receive(unit(0), 0);
    expect(s.receive(unit(0), 1)).toEqual([]);
    s.receive(unit(2), 2);
    expect(s.receive(unit(2), 3)).toEqual([]);
    expect(names(s.receive(unit(1), 4))).toEqual(['1:0', '2:0']);
    expect(s.stats.repeats).toBe(2);
  });

  it('tells of each repeat it drops (the peer may be waiting for our last flight)', () => {
    const repeats: number[] = [];
    const s = new HandshakeSequencer({ onRepeat: (u) => repeats.push(u.type) });
    s.receive(unit(0, 2), 0);
    s.receive(unit(1, 14), 0);
    s.receive(unit(1, 14), 1);
    expect(repeats).toEqual([14]);
  });

  it('hands a repeat on again when it must be answered', () => {
    let answering = true;
    const s = new HandshakeSequencer({ answerAgain: (type) => type === 1 && answering });
    expect(names(s.receive(unit(0, 1), 0))).toEqual(['0:0']);
    expect(names(s.receive(unit(0, 1), 1))).toEqual(['0:0']);
    answering = false;
    expect(s.receive(unit(0, 1), 2)).toEqual([]);
  });

  it('waits for every fragment of a message, then hands them on by offset', () => {
    const s = new HandshakeSequencer();
    expect(s.receive(unit(0, 11, 600, 400, 1000), 0)).toEqual([]);
    expect(s.receive(unit(1), 0)).toEqual([]);
    expect(s.receive(unit(0, 11, 0, 300, 1000), 1)).toEqual([]); // a hole at 300..600
    expect(names(s.receive(unit(0, 11, 300, 300, 1000), 2))).toEqual(['0:0', '0:300', '0:600', '1:0']);
  });

  it('never skips a gap after the first message: a lost message is retransmitted', () => {
    const s = new HandshakeSequencer({ skipGapAfterMs: 1500 });
    s.receive(unit(0), 0);
    expect(s.receive(unit(2), 0)).toEqual([]);
    expect(s.drain(60_000)).toEqual([]);
    expect(names(s.receive(unit(1), 60_001))).toEqual(['1:0', '2:0']);
  });

  it('skips to a first message numbered above 0 once it has waited too long (a peer that numbers otherwise)', () => {
    const s = new HandshakeSequencer({ skipGapAfterMs: 1500 });
    expect(s.receive(unit(1), 0)).toEqual([]);
    expect(s.drain(1000)).toEqual([]);
    expect(names(s.drain(1500))).toEqual(['1:0']);
    expect(s.stats.skipped).toBe(1);
    expect(s.receive(unit(0), 1600)).toEqual([]); // now behind: a repeat
  });

  it('keeps at most maxPending messages waiting', () => {
    const s = new HandshakeSequencer({ maxPending: 2 });
    s.receive(unit(5), 0);
    s.receive(unit(6), 0);
    s.receive(unit(7), 0);
    expect(names(s.drain(10_000))).toEqual(['5:0', '6:0']);
  });
});
