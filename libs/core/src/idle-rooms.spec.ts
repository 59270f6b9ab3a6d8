import { idleCheckIntervalMs, idleRoomsToClose } from './idle-rooms';

describe('idle rooms', () => {
  it('starts counting when a room is first seen idle and closes it after the timeout', () => {
    const t0 = 1_000_000;
    let d = idleRoomsToClose([{ name: 'a', idle: true }], new Map(), t0, 300_000);
    expect(d.close).toEqual([]);
    expect(d.idleSince.get('a')).toBe(t0);
    d = idleRoomsToClose([{ name: 'a', idle: true }], d.idleSince, t0 + 299_999, 300_000);
    expect(d.close).toEqual([]);
    d = idleRoomsToClose([{ name: 'a', idle: true }], d.idleSince, t0 + 300_000, 300_000);
    expect(d.close).toEqual([{ name: 'a', idleMs: 300_000 }]);
    expect(d.idleSince.has('a')).toBe(false);
  });

  it('resets the clock when someone comes in, and forgets rooms that are gone', () => {
    const since = new Map([
      ['busy', 0],
      ['gone', 0],
      ['quiet', 0],
    ]);
    const d = idleRoomsToClose(
      [
        { name: 'busy', idle: false },
        { name: 'quiet', idle: true },
      ],
      since,
      1000,
      5000,
    );
    expect(d.close).toEqual([]);
    expect([...d.idleSince.keys()]).toEqual(['quiet']);
    const again = idleRoomsToClose([{ name: 'busy', idle: true }], d.idleSince, 2000, 5000);
    expect(again.idleSince.get('busy')).toBe(2000);
  });

  it('does not change the map it was given', () => {
    const since = new Map([['a', 0]]);
    idleRoomsToClose([{ name: 'a', idle: true }], since, 10, 5);
    expect(since.get('a')).toBe(0);
  });

  it('checks about ten times per timeout, within 250 ms and 10 s', () => {
    expect(idleCheckIntervalMs(300_000)).toBe(10_000);
    expect(idleCheckIntervalMs(20_000)).toBe(2000);
    expect(idleCheckIntervalMs(1000)).toBe(250);
  });
});
