import { RtcpPacketConverter, TransportWideCC } from 'werift';
import { twccResults } from '@app/media';
import { buildTwccFeedback, TwccReceiver } from './twcc-feedback';

describe('transport-wide feedback as a browser sends it', () => {
  it('parses back in werift (the server side) with gaps, small and large deltas, and the sequence wrap', () => {
    const base = 1_000_000_000; // µs
    const arrivals = [
      { seq: 65533, atUs: base },
      { seq: 65534, atUs: base + 5_000 },
      { seq: 65535 }, // lost
      { seq: 0 }, // lost
      { seq: 1, atUs: base + 200_000 }, // a large delta (> 63.75 ms)
      { seq: 2, atUs: base + 200_250 },
    ];
    const buf = buildTwccFeedback({ senderSsrc: 1, mediaSsrc: 2, fbCount: 7, arrivals });
    const [packet] = RtcpPacketConverter.deSerialize(buf) as Array<{ feedback: TransportWideCC }>;
    expect(packet.feedback).toBeInstanceOf(TransportWideCC);
    const results = twccResults(packet.feedback);
    expect(results.map((r) => r.seq)).toEqual([65533, 65534, 65535, 0, 1, 2]);
    expect(results.map((r) => r.receivedAtMs === undefined)).toEqual([false, false, true, true, false, false]);
    const t0 = results[0].receivedAtMs!;
    expect(results[1].receivedAtMs! - t0).toBeCloseTo(5, 1);
    expect(results[4].receivedAtMs! - t0).toBeCloseTo(200, 1);
    expect(results[5].receivedAtMs! - t0).toBeCloseTo(200.25, 1);
  });

  it('reads status vector chunks as Chrome sends them', () => {
    // base 100, 7 packets, reference time 1 (64 ms); one 2-bit status vector: received, lost, received, received (large
    // delta), received, received, lost
    const body = Buffer.from([0, 100, 0, 7, 0, 0, 1, 0, 0xd1, 0x94, 4, 8, 0x01, 0x90, 4, 4]);
    const head = Buffer.from([0x8f, 205, 0, (12 + body.length) / 4 - 1, 0, 0, 0, 1, 0, 0, 0, 2]);
    const [packet] = RtcpPacketConverter.deSerialize(Buffer.concat([head, body])) as Array<{ feedback: TransportWideCC }>;
    const r = twccResults(packet.feedback);
    expect(r.map((x) => x.seq)).toEqual([100, 101, 102, 103, 104, 105, 106]);
    expect(r.map((x) => (x.receivedAtMs === undefined ? null : +(x.receivedAtMs - 64).toFixed(2)))).toEqual([1, null, 3, 103, 104, 105, null]);
  });

  it('a receiver reports each number once, new arrivals only', () => {
    const r = new TwccReceiver();
    r.received(10, 1000);
    r.received(12, 3000);
    const a = RtcpPacketConverter.deSerialize(r.feedback(1, 2)!) as Array<{ feedback: TransportWideCC }>;
    expect(twccResults(a[0].feedback).map((x) => [x.seq, x.receivedAtMs !== undefined])).toEqual([[10, true], [11, false], [12, true]]);
    expect(r.feedback(1, 2)).toBeUndefined();
    r.received(11, 4000); // too late: already reported lost
    r.received(13, 5000);
    const b = RtcpPacketConverter.deSerialize(r.feedback(1, 2)!) as Array<{ feedback: TransportWideCC }>;
    expect(twccResults(b[0].feedback).map((x) => x.seq)).toEqual([13]);
  });
});
