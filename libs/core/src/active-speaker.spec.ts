import { ActiveSpeakerDetector } from './active-speaker';

/** Feeds constant levels every 20 ms from `from` to `to`, returning the changes seen with their times. */
function run(d: ActiveSpeakerDetector, levels: Record<string, number>, from: number, to: number): Array<[number, string | undefined]> {
  const changes: Array<[number, string | undefined]> = [];
  for (let t = from; t < to; t += 20) {
    const c = d.update(new Map(Object.entries(levels)), t);
    if (c !== null) changes.push([t, c]);
  }
  return changes;
}

describe('ActiveSpeakerDetector', () => {
  it('the loudest identity above the threshold becomes active after the minimum speaking time', () => {
    const d = new ActiveSpeakerDetector();
    const changes = run(d, { a: 0.2, b: 0.05, c: 0.001 }, 0, 1000);
    expect(changes).toHaveLength(1);
    expect(changes[0][1]).toBe('a');
    expect(changes[0][0]).toBeGreaterThanOrEqual(300);
    expect(changes[0][0]).toBeLessThan(500);
  });

  it('nobody above the threshold: no active speaker', () => {
    const d = new ActiveSpeakerDetector();
    expect(run(d, { a: 0.005, b: 0.002 }, 0, 2000)).toEqual([]);
    expect(d.current).toBeUndefined();
  });

  it('a short burst does not take the floor; silence keeps the last speaker', () => {
    const d = new ActiveSpeakerDetector();
    run(d, { a: 0.2, b: 0 }, 0, 2000);
    expect(d.current).toBe('a');
    expect(run(d, { a: 0.02, b: 0.3 }, 2000, 2200)).toEqual([]); // 200 ms < minSpeakMs
    expect(run(d, { a: 0, b: 0 }, 2200, 5000)).toEqual([]);
    expect(d.current).toBe('a');
  });

  it('holds the floor for the hold time before a challenger takes over (no flicker)', () => {
    const d = new ActiveSpeakerDetector({ threshold: 0.01, minSpeakMs: 300, holdMs: 1500, smoothingMs: 100 });
    const first = run(d, { a: 0.2, b: 0 }, 0, 400);
    const tookAt = first[0][0];
    const changes = run(d, { a: 0.02, b: 0.3 }, 400, 4000);
    expect(changes).toHaveLength(1);
    expect(changes[0][1]).toBe('b');
    expect(changes[0][0] - tookAt).toBeGreaterThanOrEqual(1500);
    // alternating every 200 ms never switches
    const alt: Array<[number, string | undefined]> = [];
    for (let k = 0; k < 20; k++) alt.push(...run(d, k % 2 ? { a: 0.3, b: 0.01 } : { a: 0.01, b: 0.3 }, 4000 + k * 200, 4200 + k * 200));
    expect(alt).toEqual([]);
  });

  it('when the active speaker leaves, the loudest remaining one takes over at once (or nobody)', () => {
    const d = new ActiveSpeakerDetector();
    run(d, { a: 0.2, b: 0.1 }, 0, 1000);
    expect(d.update(new Map([['b', 0.1]]), 1000)).toBe('b');
    expect(d.update(new Map(), 1020)).toBeUndefined();
    expect(d.current).toBeUndefined();
  });
});
