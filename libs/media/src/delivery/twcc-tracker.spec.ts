import { TwccTracker } from './twcc-tracker';

describe('TwccTracker', () => {
  it('measures what got through, the loss and the queue from feedback', () => {
    const t = new TwccTracker();
    // 100 packets of 1000 bytes sent over 500 ms (1600 kbps) through an 800 kbps link: arrivals spread to 1000 ms
    for (let i = 0; i < 100; i++) t.sent(65500 + i, 1000, i * 5); // wraps past 65535
    const results = [];
    for (let i = 0; i < 100; i++) results.push(i % 10 === 9 ? { seq: (65500 + i) & 0xffff } : { seq: (65500 + i) & 0xffff, receivedAtMs: 10_000 + 20 + i * 10 });
    t.feedback(results, 1000);
    const w = t.window(1000)!;
    expect(w.packets).toBe(100);
    expect(w.loss).toBeCloseTo(0.1);
    expect(w.sentKbps).toBeGreaterThan(1500);
    expect(w.receivedKbps).toBeGreaterThan(700);
    expect(w.receivedKbps).toBeLessThan(900);
    expect(w.queueDelayMs).toBeGreaterThan(300); // the last packets waited ~500 ms more than the first
  });

  it('a link that keeps up shows no queue; old reports leave the window', () => {
    const t = new TwccTracker(1000);
    for (let i = 0; i < 50; i++) t.sent(i, 500, i * 20);
    t.feedback(Array.from({ length: 50 }, (_, i) => ({ seq: i, receivedAtMs: 7 + i * 20 })), 1000);
    const w = t.window(1000)!;
    expect(w.loss).toBe(0);
    expect(w.queueDelayMs).toBe(0);
    expect(w.receivedKbps).toBeCloseTo(w.sentKbps, 0);
    expect(t.window(2500)).toBeUndefined();
  });
});
