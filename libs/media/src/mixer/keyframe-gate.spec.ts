import { KeyframeGate } from './keyframe-gate';

describe('KeyframeGate', () => {
  it('answers a request on the next frame', () => {
    const g = new KeyframeGate(500, 5000);
    expect(g.shouldForce(0)).toBe(true); // the first frame (periodic: nothing before it)
    expect(g.shouldForce(600)).toBe(false);
    g.request(700);
    expect(g.shouldForce(733)).toBe(true);
    expect(g.forced).toBe(2);
  });

  it('forces at most one keyframe per min interval, however many ask, and coalesces the rest', () => {
    const g = new KeyframeGate(500, 60_000);
    g.shouldForce(0);
    const keys: number[] = [];
    for (let t = 1; t <= 3000; t += 33) {
      g.request(t); // every frame, someone asks
      g.request(t);
      if (g.shouldForce(t)) keys.push(t);
    }
    expect(keys).toEqual([529, 1057, 1585, 2113, 2641]); // the first frame at least 500 ms after the previous keyframe
    expect(g.coalesced).toBeGreaterThan(100);
  });

  it('a request inside the interval is served when the interval ends, not dropped', () => {
    const g = new KeyframeGate(500, 60_000);
    g.request(0);
    expect(g.shouldForce(0)).toBe(true);
    g.request(100);
    expect(g.shouldForce(133)).toBe(false);
    expect(g.pending).toBe(true);
    expect(g.shouldForce(499)).toBe(false);
    expect(g.shouldForce(533)).toBe(true);
    expect(g.pending).toBe(false);
  });

  it('makes a periodic keyframe after maxIntervalMs without requests', () => {
    const g = new KeyframeGate(500, 2000);
    g.encoderRestarted(0);
    const keys: number[] = [];
    for (let t = 0; t <= 6000; t += 100) if (g.shouldForce(t)) keys.push(t);
    expect(keys).toEqual([2000, 4000, 6000]);
  });
});
