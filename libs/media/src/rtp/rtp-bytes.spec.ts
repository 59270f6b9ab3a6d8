import { annexBIsKeyframe, annexBNalTypes, buildRtp, isRtp, rtpPayloadOffset, RtpContinuity, rtpSeq, rtpSsrc, rtpTimestamp, seqDelta, startsKeyframe } from './rtp-bytes';
import { ivfFileHeader, ivfFrameHeader } from './ivf';

const pkt = (seq: number, ts: number, ssrc: number, payload = Buffer.from([1, 2, 3])) =>
  buildRtp({ payloadType: 96, seq, timestamp: ts, ssrc, payload });

describe('RtpContinuity', () => {
  it('passes a steady stream through with constant offsets and our SSRC', () => {
    const c = new RtpContinuity(90000, 0xabcdef, 100, 5000);
    const a = c.rewrite(pkt(7, 1000, 1), 0);
    const b = c.rewrite(pkt(8, 4000, 1), 33);
    expect([rtpSeq(a), rtpTimestamp(a), rtpSsrc(a)]).toEqual([100, 5000, 0xabcdef]);
    expect([rtpSeq(b), rtpTimestamp(b)]).toEqual([101, 8000]);
  });

  it('continues forward across a source restart with new random numbers', () => {
    const c = new RtpContinuity(90000, 1, 65534, 0xfffffff0);
    c.rewrite(pkt(500, 123456, 11), 0);
    c.rewrite(pkt(501, 126456, 11), 33);
    const r = c.rewrite(pkt(9, 42, 22), 1033); // new SSRC: restarted encoder
    expect(rtpSeq(r)).toBe(0); // 65534, 65535, then wraps to 0
    const s = c.rewrite(pkt(10, 3042, 22), 1066);
    expect(seqDelta(rtpSeq(r), rtpSeq(s))).toBe(1);
    expect((rtpTimestamp(s) - rtpTimestamp(r)) >>> 0).toBe(3000);
  });

  it('explicit discontinuity re-bases even with the same SSRC, advancing time by the wall clock', () => {
    const c = new RtpContinuity(48000, 1, 10, 1000);
    c.rewrite(pkt(1, 0, 5), 0);
    c.markDiscontinuity();
    const r = c.rewrite(pkt(1, 0, 5), 500);
    expect(rtpSeq(r)).toBe(11);
    expect(rtpTimestamp(r)).toBe(1000 + 24000);
  });

  it('seqDelta wraps', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
  });
});

describe('RTP parsing', () => {
  it('finds the payload after CSRCs and extensions', () => {
    const p = pkt(1, 1, 1);
    expect(isRtp(p)).toBe(true);
    expect(rtpPayloadOffset(p)).toBe(12);
    const ext = Buffer.concat([Buffer.from([0x91, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), Buffer.alloc(4), Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]), Buffer.from([9])]);
    expect(rtpPayloadOffset(ext)).toBe(12 + 4 + 8);
    expect(isRtp(Buffer.from([0, 1]))).toBe(false);
  });

  it('detects H.264 keyframes: IDR, SPS in STAP-A, FU-A start of IDR', () => {
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x65, 0])), 'h264')).toBe(true);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x41, 0])), 'h264')).toBe(false);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x18, 0, 2, 0x67, 0, 0, 2, 0x68, 0])), 'h264')).toBe(true);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x7c, 0x85, 0])), 'h264')).toBe(true);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x7c, 0x05, 0])), 'h264')).toBe(false);
  });

  it('detects VP8 keyframes with and without extended descriptor', () => {
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x10, 0x00])), 'vp8')).toBe(true);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x10, 0x01])), 'vp8')).toBe(false);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x90, 0x80, 0x81, 0x23, 0x00])), 'vp8')).toBe(true);
    expect(startsKeyframe(pkt(1, 1, 1, Buffer.from([0x00, 0x00])), 'vp8')).toBe(false); // not a partition start
  });
});

describe('IVF', () => {
  it('writes the 32-byte file header and 12-byte frame headers', () => {
    const h = ivfFileHeader(640, 360);
    expect(h.length).toBe(32);
    expect(h.toString('ascii', 0, 4)).toBe('DKIF');
    expect(h.toString('ascii', 8, 12)).toBe('VP80');
    const f = ivfFrameHeader(1234, 90000);
    expect(f.readUInt32LE(0)).toBe(1234);
    expect(f.readBigUInt64LE(4)).toBe(90000n);
  });
});

describe('Annex-B', () => {
  it('lists NAL types and finds IDR access units', () => {
    const au = Buffer.from('0000000167420000000168ce00000165888400', 'hex');
    expect(annexBNalTypes(au)).toEqual([7, 8, 5]);
    expect(annexBIsKeyframe(au)).toBe(true);
    expect(annexBIsKeyframe(Buffer.from('00000001419a2000', 'hex'))).toBe(false);
  });
});
