import {
  FrameAssembler,
  RtpContinuity,
  depacketize,
  isFrameStart,
  ivfFrame,
  ivfHeader,
  seqDiff,
  tsDiff,
  vp8Payload,
  type AssembledFrame,
  type RtpLike,
} from './rtp-frames';

const pkt = (seq: number, ts: number, payload: Buffer, marker = false, ssrc = 1): RtpLike => ({
  header: { sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, marker, ssrc, payloadType: 96 },
  payload,
});

/** VP8 packets of one frame: descriptor with PictureID (X=1, I=1, M=1), S=1 on the first one. */
function vp8Packets(seq: number, ts: number, key: boolean, parts = 2): RtpLike[] {
  const frame = key
    ? Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 0xaa, 0xbb]) // 640x360 keyframe
    : Buffer.from([0x31, 0x00, 0x00, 0xcc, 0xdd, 0xee]);
  const out: RtpLike[] = [];
  const step = Math.ceil(frame.length / parts);
  for (let i = 0; i < parts; i++) {
    const desc = Buffer.from([0x80 | (i === 0 ? 0x10 : 0), 0x80, 0x80 | 0x12, 0x34]);
    out.push(pkt(seq + i, ts, Buffer.concat([desc, frame.subarray(i * step, (i + 1) * step)]), i === parts - 1));
  }
  return out;
}

describe('sequence arithmetic', () => {
  it('wraps', () => {
    expect(seqDiff(2, 65534)).toBe(4);
    expect(seqDiff(65534, 2)).toBe(-4);
    expect(tsDiff(5, 0xfffffffe)).toBe(7);
    expect(tsDiff(0xfffffffe, 5)).toBe(-7);
  });
});

describe('RtpContinuity', () => {
  it('counts jumps back, reordering, gaps and SSRCs', () => {
    const c = new RtpContinuity(10);
    const b = Buffer.alloc(1);
    c.add(pkt(65534, 1000, b), 'video/VP8');
    c.add(pkt(65535, 1000, b));
    c.add(pkt(0, 4000, b)); // wrap is fine
    c.add(pkt(3, 7000, b)); // gap of 2
    c.add(pkt(1, 4000, b)); // late by 2: reordered
    c.add(pkt(4, 6000, b)); // ts went back
    c.add(pkt(100, 9000, b)); // gap
    c.add(pkt(50, 9000, b)); // back by 50 > 10
    c.add(pkt(7, 100, b, false, 2)); // new SSRC restarts the baselines
    c.add(pkt(8, 200, b, false, 2));
    expect(c.stats).toEqual({
      packets: 10,
      ssrcs: [1, 2],
      seqJumpsBack: 1,
      tsJumpsBack: 1,
      reordered: 1,
      seqGaps: 2,
      skippedPackets: 2 + 95,
      mimeType: 'video/VP8',
    });
  });
});

describe('depacketize', () => {
  it('strips VP8 descriptors and reads the keyframe size', () => {
    expect(vp8Payload(Buffer.from([0x10, 0xaa]))).toEqual(Buffer.from([0xaa]));
    expect(vp8Payload(Buffer.from([0x90, 0xe0, 0x05, 0x01, 0x20, 0xaa]))).toEqual(Buffer.from([0xaa])); // I(7 bit), L, T
    const f = depacketize('vp8', vp8Packets(10, 90, true, 3));
    expect(f.keyframe).toBe(true);
    expect([f.width, f.height]).toEqual([640, 360]);
    expect(f.data.length).toBe(12);
    expect(depacketize('vp8', vp8Packets(10, 90, false)).keyframe).toBe(false);
  });

  it('turns single NAL, STAP-A and FU-A into Annex-B', () => {
    const sps = Buffer.from([0x67, 1, 2]);
    const pps = Buffer.from([0x68, 3]);
    const stap = Buffer.from([0x18, 0, 3, ...sps, 0, 2, ...pps]);
    // IDR (0x65) split in two FU-As: indicator 0x7c (nri 3, type 28), header S|5 then E|5.
    const fu1 = Buffer.from([0x7c, 0x85, 0xa0, 0xa1]);
    const fu2 = Buffer.from([0x7c, 0x45, 0xa2]);
    const f = depacketize('h264', [pkt(1, 0, stap), pkt(2, 0, fu1), pkt(3, 0, fu2, true)]);
    expect(f.keyframe).toBe(true);
    expect([...f.data]).toEqual([0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps, 0, 0, 0, 1, 0x65, 0xa0, 0xa1, 0xa2]);
    const p = depacketize('h264', [pkt(4, 3000, Buffer.from([0x41, 9, 9]), true)]);
    expect(p.keyframe).toBe(false);
    expect([...p.data]).toEqual([0, 0, 0, 1, 0x41, 9, 9]);
    expect(isFrameStart('h264', fu1)).toBe(true);
    expect(isFrameStart('h264', fu2)).toBe(false);
    expect(isFrameStart('vp8', vp8Packets(0, 0, true)[1].payload)).toBe(false);
  });
});

describe('FrameAssembler', () => {
  const collect = (): { frames: AssembledFrame[]; asm: FrameAssembler } => {
    const frames: AssembledFrame[] = [];
    return { frames, asm: new FrameAssembler('vp8', (f) => frames.push(f), 3, 500) };
  };

  it('waits for a keyframe, then emits frames in order despite reordering', () => {
    const { frames, asm } = collect();
    for (const p of vp8Packets(1, 0, false)) asm.push(p, 0); // delta before any keyframe: dropped
    const key = vp8Packets(3, 3000, true);
    const d1 = vp8Packets(5, 6000, false);
    for (const p of [key[1], d1[0], key[0], d1[1]]) asm.push(p, 1);
    expect(frames.map((f) => [f.timestamp, f.keyframe])).toEqual([
      [3000, true],
      [6000, false],
    ]);
    expect(asm.stats).toMatchObject({ framesEmitted: 2, keyframesEmitted: 1, framesDropped: 1 });
    asm.push(key[0], 2); // late duplicate
    expect(asm.stats.latePackets).toBe(1);
  });

  it('waits for a retransmission, then gives up and needs a keyframe', () => {
    const { frames, asm } = collect();
    for (const p of vp8Packets(1, 0, true)) asm.push(p, 0);
    const d1 = vp8Packets(3, 3000, false);
    const d2 = vp8Packets(5, 6000, false);
    asm.push(d1[1], 10); // d1[0] lost for now
    for (const p of d2) asm.push(p, 10);
    expect(frames).toHaveLength(1);
    asm.push(d1[0], 20); // the retransmission arrives: both emitted
    expect(frames.map((f) => f.timestamp)).toEqual([0, 3000, 6000]);
    expect(asm.needKeyframe).toBe(false);

    const d3 = vp8Packets(7, 9000, false);
    asm.push(d3[1], 30); // d3[0] never comes
    asm.poll(600);
    expect(asm.needKeyframe).toBe(true);
    for (const p of vp8Packets(9, 12000, false)) asm.push(p, 610); // delta: dropped
    for (const p of vp8Packets(11, 15000, true)) asm.push(p, 620);
    expect(frames.map((f) => f.timestamp)).toEqual([0, 3000, 6000, 15000]);
    expect(asm.stats.framesDropped).toBe(2);
  });
});

describe('ivf', () => {
  it('writes headers', () => {
    const h = ivfHeader(640, 360);
    expect(h.length).toBe(32);
    expect(h.toString('ascii', 0, 4)).toBe('DKIF');
    expect(h.toString('ascii', 8, 12)).toBe('VP80');
    expect(h.readUInt16LE(12)).toBe(640);
    const f = ivfFrame(Buffer.from([1, 2, 3]), 7);
    expect(f.readUInt32LE(0)).toBe(3);
    expect(f.readBigUInt64LE(4)).toBe(7n);
    expect(f.length).toBe(15);
  });
});
