import { ViewerQualityRecorder } from './viewer-quality';

describe('ViewerQualityRecorder', () => {
  it('measures fps, freezes, audio ratio, video kbps, NACKs and PLIs over a window', () => {
    const q = new ViewerQualityRecorder(0);
    // 0-2 s: 30 fps; 2-3 s: frozen; 3-4 s: 30 fps again.
    for (let i = 0; i < 120; i++) if (i < 60 || i >= 90) q.frameDecoded((i * 1000) / 30);
    // Audio every 20 ms, but 1-2 s lost.
    for (let t = 0; t < 4000; t += 20) if (t < 1000 || t >= 2000) q.audioPacket(t);
    // 100 video packets of 1250 B per second = 1000 kbps.
    for (let t = 0; t < 4000; t += 10) q.videoPacket(t, 1250);
    q.nackSent(1500, 3);
    q.nackSent(1505, 3);
    q.pliSent(2500);

    const all = q.window(10000, 4000); // clamped to the recorder's 4 s
    expect(all.windowMs).toBe(4000);
    expect(all.decodedFrames).toBe(90);
    expect(all.decodedFps).toBeCloseTo(22.5, 5);
    expect(all.longestFreezeMs).toBeCloseTo(1000 + 1000 / 30, 3); // frame 59 (1966.7 ms) to frame 90 (3000 ms)
    expect(all.audioPackets).toBe(150);
    expect(all.audioExpected).toBe(200);
    expect(all.audioRatio).toBeCloseTo(0.75, 5);
    expect(all.videoKbps).toBeCloseTo(1000, 0);
    expect(all.videoPackets).toBe(400);
    expect(all).toMatchObject({ nacksSent: 2, nackedPackets: 6, plisSent: 1 });

    const last = q.window(1000, 4000);
    expect(last.decodedFps).toBeCloseTo(30, 0);
    expect(last.longestFreezeMs).toBeLessThan(40);
    expect(last.audioRatio).toBeCloseTo(1, 5);
    expect(last).toMatchObject({ nacksSent: 0, plisSent: 0 });
  });

  it('counts a freeze still going on, and an empty window as one long freeze', () => {
    const q = new ViewerQualityRecorder(0);
    q.frameDecoded(100);
    q.frameDecoded(200);
    expect(q.window(5000, 1700).longestFreezeMs).toBe(1500);
    expect(q.window(1000, 5000)).toMatchObject({ decodedFrames: 0, decodedFps: 0, longestFreezeMs: 1000 });
  });

  it('forgets what is older than keepMs', () => {
    const q = new ViewerQualityRecorder(0, 1000);
    for (let t = 0; t < 20000; t += 10) q.audioPacket(t);
    expect(q.window(20000, 20000).audioPackets).toBeLessThanOrEqual(101);
    expect(q.window(500, 20000).audioPackets).toBe(50);
  });
});
