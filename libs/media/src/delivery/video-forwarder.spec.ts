import { buildRtp } from '../rtp/rtp-bytes';
import { VideoForwarder } from './video-forwarder';

const pkt = (seq: number, ts: number) => buildRtp({ payloadType: 102, seq, timestamp: ts, ssrc: 1, payload: Buffer.from([1, 2, 3]) });

describe('VideoForwarder', () => {
  it('starts at a keyframe of its target, then forwards only that rendition', () => {
    const f = new VideoForwarder('high', 1000, 5000);
    expect(f.forward('high', pkt(40, 900), false, 0)).toBeUndefined(); // no keyframe yet
    expect(f.forward('low', pkt(7, 100), true, 0)).toBeUndefined(); // not its rendition
    expect(f.forward('high', pkt(41, 900), true, 0)).toMatchObject({ seq: 1000, ts: 5000 });
    expect(f.forward('high', pkt(42, 3900), false, 33)).toMatchObject({ seq: 1001, ts: 8000 });
    expect(f.current).toBe('high');
  });

  it('switches at the target keyframe with sequence numbers +1 and timestamps following the wall clock', () => {
    const f = new VideoForwarder('high', 65534, 0xfffffff0);
    f.forward('high', pkt(10, 0), true, 0);
    f.forward('high', pkt(11, 3000), false, 33);
    f.setTarget('low');
    expect(f.switching).toBe(true);
    expect(f.forward('low', pkt(500, 123456), false, 40)).toBeUndefined(); // not a keyframe: wait
    expect(f.forward('high', pkt(12, 6000), false, 66)).toMatchObject({ seq: 0 }); // old rendition until the switch (wraps)
    const sw = f.forward('low', pkt(501, 123456), true, 100)!;
    expect(sw.seq).toBe(1);
    expect((sw.ts - ((0xfffffff0 + 6000) >>> 0)) >>> 0).toBe(34 * 90); // 34 ms after the last packet
    expect(f.forward('high', pkt(13, 9000), false, 101)).toBeUndefined();
    expect(f.forward('low', pkt(502, 126456), false, 133)).toMatchObject({ seq: 2 });
    expect(f.switches).toBe(1);
    expect(f.switching).toBe(false);
  });

  it('pauses at once and resumes at a keyframe, numbering on', () => {
    const f = new VideoForwarder('low', 100, 0);
    f.forward('low', pkt(1, 0), true, 0);
    f.setTarget(null);
    expect(f.current).toBeUndefined();
    expect(f.forward('low', pkt(2, 1000), true, 10)).toBeUndefined();
    f.setTarget('low');
    expect(f.forward('low', pkt(3, 5000), true, 1000)).toMatchObject({ seq: 101, ts: 90_000 });
  });

  it('keeps what it sent for NACKs and probes', () => {
    const f = new VideoForwarder('high', 10, 0);
    const a = f.forward('high', pkt(1, 0), true, 0)!;
    const b = f.forward('high', pkt(2, 3000), false, 33)!;
    expect(b.seq).toBe(11);
    expect(f.lookup(10)).toBe(a);
    expect(f.lookup(12)).toBeUndefined();
    expect(f.recent(0)).toBe(b);
    expect(f.recent(1)).toBe(a);
    expect(f.recent(2)).toBeUndefined();
    for (let i = 3; i < 2000; i++) f.forward('high', pkt(i, i * 3000), false, i * 33);
    expect(f.lookup(10)).toBeUndefined(); // fell out of the history
  });
});
