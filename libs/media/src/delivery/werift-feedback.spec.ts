import { RtcpHeader, RtcpPacketConverter, TransportWideCC } from 'werift';
import { installFastTwccParser, twccResults } from './werift-feedback';

/** A seeded PRNG, so that a failure can be replayed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** The body (after the RTCP header) of a well-formed transport-wide feedback mixing all kinds of chunks and deltas. */
function randomFeedback(r: (n: number) => number): Buffer {
  const count = 1 + r(120);
  const chunks: number[] = [];
  const deltaTypes: number[] = [];
  for (let done = 0; done < count; ) {
    const kind = r(3);
    if (kind === 0) {
      const status = r(3); // not received, small, large
      const run = 1 + r(Math.min(40, 8191));
      chunks.push((status << 13) | run);
      const n = Math.min(run, count - done);
      if (status) for (let i = 0; i < n; i++) deltaTypes.push(status);
      done += n;
    } else if (kind === 1) {
      let bits = 0;
      for (let i = 0; i < 14; i++) bits = (bits << 1) | r(2);
      chunks.push(0x8000 | bits);
      for (let i = 13; i >= 0; i--) if ((bits >> i) & 1) deltaTypes.push(1);
      done += 14;
    } else {
      let bits = 0;
      for (let i = 0; i < 7; i++) bits = (bits << 2) | r(3);
      chunks.push(0xc000 | bits);
      for (let i = 12; i >= 0; i -= 2) if ((bits >> i) & 3) deltaTypes.push((bits >> i) & 3);
      done += 7;
    }
  }
  const deltas = deltaTypes.map((t) => {
    if (t === 1) return Buffer.from([r(256)]);
    const b = Buffer.alloc(2);
    b.writeInt16BE(r(65536) - 32768);
    return b;
  });
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32BE(r(0xffffffff), 0);
  fixed.writeUInt32BE(r(0xffffffff), 4);
  fixed.writeUInt16BE(r(65536), 8);
  fixed.writeUInt16BE(count, 10);
  fixed.writeUIntBE(r(0xffffff), 12, 3);
  fixed[15] = r(256);
  const c = Buffer.alloc(chunks.length * 2);
  chunks.forEach((v, i) => c.writeUInt16BE(v, i * 2));
  return Buffer.concat([fixed, c, ...deltas, Buffer.alloc(r(4))]);
}

describe('installFastTwccParser', () => {
  const weriftParse = TransportWideCC.deSerialize.bind(TransportWideCC);
  beforeAll(() => installFastTwccParser());

  it("parses transport-wide feedback into the same objects as werift's own parser", () => {
    const r = rng(12345);
    for (let k = 0; k < 500; k++) {
      const body = randomFeedback(r);
      const header = new RtcpHeader({ type: 205, count: 15, length: Math.ceil(body.length / 4) });
      const theirs = weriftParse(body, header);
      const ours = TransportWideCC.deSerialize(body, header);
      expect(ours).toStrictEqual(theirs);
      expect(ours.serialize()).toEqual(theirs.serialize());
      expect(twccResults(ours)).toEqual(twccResults(theirs));
    }
  });

  it('is what RtcpPacketConverter uses, and drops a truncated feedback', () => {
    const body = randomFeedback(rng(7));
    const header = new RtcpHeader({ type: 205, count: 15, length: Math.ceil(body.length / 4) });
    const packet = Buffer.concat([header.serialize(), body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const [parsed] = RtcpPacketConverter.deSerialize(packet) as Array<{ feedback: TransportWideCC }>;
    expect(parsed.feedback).toStrictEqual(weriftParse(body, parsed.feedback.header));
    expect(() => TransportWideCC.deSerialize(body.subarray(0, 17), header)).toThrow(RangeError);
  });
});
