import { RateTracker } from './rate-tracker';

describe('RateTracker', () => {
  it('gives the rate between samples far enough apart, keeping the last rate in between', () => {
    const r = new RateTracker(500);
    expect(r.observe('a', 0, 0)).toBeUndefined();
    expect(r.observe('a', 10, 100)).toBeUndefined(); // too soon, no rate yet
    expect(r.observe('a', 30, 1000)).toBe(30);
    expect(r.observe('a', 31, 1100)).toBe(30);
    expect(r.observe('a', 60, 2000)).toBe(30);
  });

  it('restarts on a counter reset and forgets pruned keys', () => {
    const r = new RateTracker(500);
    r.observe('a', 100, 0);
    expect(r.observe('a', 5, 1000)).toBeUndefined();
    r.observe('b', 0, 0);
    r.prune(['a']);
    expect(r.observe('b', 50, 1000)).toBeUndefined();
  });
});
