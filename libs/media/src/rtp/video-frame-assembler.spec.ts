import type { RtpPacket } from 'werift';
import type { EncodedFrame } from '../mixer/video-input';
import { VideoFrameAssembler, Vp8Depacketizer } from './video-frame-assembler';

/** A VP8 RTP payload: descriptor (with a 15-bit PictureID when `pictureId` is given) + bytes. */
const vp8 = (start: boolean, bytes: number[], pictureId?: number): Buffer => {
  const d = pictureId === undefined ? [start ? 0x10 : 0x00] : [(start ? 0x10 : 0x00) | 0x80, 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff];
  return Buffer.from([...d, ...bytes]);
};

describe('Vp8Depacketizer', () => {
  it('joins a frame’s payloads without their descriptors and reads the key frame bit of the first', () => {
    const d = new Vp8Depacketizer();
    expect(d.push(vp8(true, [0x10, 1, 2], 300), 10, false)).toBeUndefined();
    expect(d.push(vp8(false, [3, 4], 300), 11, false)).toBeUndefined();
    expect(d.push(vp8(false, [5], 300), 12, true)).toEqual({ data: Buffer.from([0x10, 1, 2, 3, 4, 5]), isKeyframe: true });
    expect(d.push(vp8(true, [0x11, 9]), 13, true)).toEqual({ data: Buffer.from([0x11, 9]), isKeyframe: false });
  });

  it('drops a frame that misses a packet or whose start was not seen, and picks up at the next start', () => {
    const d = new Vp8Depacketizer();
    expect(d.push(vp8(false, [1]), 5, true)).toBeUndefined(); // joined mid-frame
    d.push(vp8(true, [0x11, 1]), 6, false);
    expect(d.push(vp8(false, [3]), 8, true)).toBeUndefined(); // 7 lost
    expect(d.push(vp8(true, [0x11, 7]), 65535, false)).toBeUndefined();
    expect(d.push(vp8(false, [8]), 0, true)).toEqual({ data: Buffer.from([0x11, 7, 8]), isKeyframe: false }); // seq wraps
  });
});

describe('VideoFrameAssembler (VP8)', () => {
  it('reorders packets through the jitter buffer and emits frames with their RTP timestamp', () => {
    const frames: EncodedFrame[] = [];
    const a = new VideoFrameAssembler('vp8', (f) => frames.push(f));
    const pkt = (seq: number, ts: number, marker: boolean, payload: Buffer) =>
      ({ header: { sequenceNumber: seq, timestamp: ts, marker, payloadType: 96 }, payload }) as unknown as RtpPacket;
    a.push(pkt(100, 3000, false, vp8(true, [0x10, 1])));
    a.push(pkt(102, 6000, true, vp8(true, [0x11, 3])));
    a.push(pkt(101, 3000, true, vp8(false, [2])));
    expect(frames.map((f) => [f.timestamp, f.isKeyframe, [...f.data]])).toEqual([
      [3000, true, [0x10, 1, 2]],
      [6000, false, [0x11, 3]],
    ]);
  });
});
