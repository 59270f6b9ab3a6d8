import { PacketRateLimiter, TokenBucket } from './publisher-rate-limit';

describe('TokenBucket', () => {
  it('allows a burst up to its capacity, then the refill rate', () => {
    const b = new TokenBucket(100, 10, 0); // 100/s, burst 10
    let allowed = 0;
    for (let i = 0; i < 50; i++) if (b.take(1, 0)) allowed++;
    expect(allowed).toBe(10);
    expect(b.take(1, 50)).toBe(true); // 50 ms: 5 tokens back
    let more = 0;
    for (let i = 0; i < 10; i++) if (b.take(1, 50)) more++;
    expect(more).toBe(4);
    // a long pause refills to the capacity, never beyond
    let after = 0;
    for (let i = 0; i < 50; i++) if (b.take(1, 10_000)) after++;
    expect(after).toBe(10);
  });

  it('refuses a cost larger than what is left without taking anything', () => {
    const b = new TokenBucket(1000, 1000, 0);
    expect(b.take(800, 0)).toBe(true);
    expect(b.take(800, 0)).toBe(false);
    expect(b.take(200, 0)).toBe(true);
  });

  it('a clock that goes back does not add tokens', () => {
    const b = new TokenBucket(10, 1, 1000);
    expect(b.take(1, 1000)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
  });
});

describe('PacketRateLimiter', () => {
  const limits = { packetsPerSecond: 100, bytesPerSecond: 10_000, burstSeconds: 1 };

  it('passes a stream within both limits untouched (Opus: 50 packets/s of ~100 bytes)', () => {
    const l = new PacketRateLimiter(limits, 0);
    let dropped = 0;
    for (let t = 0; t < 10_000; t += 20) if (!l.allow(100, t)) dropped++;
    expect(dropped).toBe(0);
    expect(l.dropped).toBe(0);
  });

  it('drops what is over the packet rate (a flood of tiny packets)', () => {
    const l = new PacketRateLimiter(limits, 0);
    let passed = 0;
    for (let t = 0; t < 10_000; t += 1) if (l.allow(10, t)) passed++; // 1000 packets/s for 10 s
    expect(passed).toBeGreaterThanOrEqual(1000);
    expect(passed).toBeLessThanOrEqual(1100 + 1); // 100/s plus the first second's burst
    expect(l.dropped).toBe(10_000 - passed);
  });

  it('drops what is over the byte rate (a few huge packets)', () => {
    const l = new PacketRateLimiter(limits, 0);
    let bytes = 0;
    for (let t = 0; t < 10_000; t += 20) if (l.allow(1200, t)) bytes += 1200; // 60 kB/s for 10 s
    expect(bytes).toBeLessThanOrEqual(10_000 * 10 + 10_000 + 1200);
    expect(bytes).toBeGreaterThan(10_000 * 9);
  });

  it('a refused packet costs no bytes: the byte budget is not spent on packets the packet limit dropped', () => {
    const l = new PacketRateLimiter({ packetsPerSecond: 1, bytesPerSecond: 1000, burstSeconds: 1 }, 0);
    expect(l.allow(100, 0)).toBe(true);
    expect(l.allow(100, 0)).toBe(false); // over the packet rate
    expect(l.allow(900, 1000)).toBe(true); // a second later: one packet, and 900 of the bytes left since 0 + refill
  });
});
