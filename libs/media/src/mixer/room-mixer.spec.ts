import { insertBefore, pictureRect, placeLabel } from './room-mixer';

describe('placeLabel', () => {
  it('puts the name bar at the bottom-left of the tile, sized to the text, even', () => {
    const p = placeLabel('Alice', { x: 640, y: 360, w: 640, h: 360 }, false);
    expect(p.x).toBe(640);
    expect(p.y + p.h).toBe(720);
    expect(p.h).toBe(24);
    expect(p.w).toBeLessThan(640);
    for (const v of Object.values(p)) expect(v % 2).toBe(0);
  });
  it('centres the placeholder name and never leaves the tile', () => {
    const p = placeLabel('a very long display name indeed, longer than the tile', { x: 0, y: 0, w: 200, h: 120 }, true);
    expect(p).toEqual({ x: 0, y: 50, w: 200, h: 20 });
    const q = placeLabel('Bo', { x: 100, y: 0, w: 400, h: 400 }, true);
    expect(q.x - 100).toBe(400 - (q.x - 100) - q.w);
  });
});

describe('pictureRect', () => {
  const tile = { x: 640, y: 180, w: 640, h: 360 };
  it('a cover tile is all picture', () => {
    expect(pictureRect(tile, 'cover', { w: 640, h: 480 })).toEqual(tile);
  });
  it('a contain tile of a 4:3 source: the picture between the bands, so the name bar sits on it', () => {
    const p = pictureRect(tile, 'contain', { w: 640, h: 480 });
    expect(p).toEqual({ x: 720, y: 180, w: 480, h: 360 });
    const bar = placeLabel('Alice', p, false);
    expect([bar.x, bar.y + bar.h]).toEqual([720, 540]);
  });
  it('a contain tile of unknown source size assumes 16:9', () => {
    expect(pictureRect({ x: 0, y: 0, w: 1024, h: 720 }, 'contain')).toEqual({ x: 0, y: 72, w: 1024, h: 576 });
  });
});

describe('insertBefore (the join order when a session replaces another)', () => {
  const e: Array<[string, number]> = [['a', 1], ['b', 2], ['c', 3]];
  it('puts the replacing session where the replaced one is', () => {
    expect(insertBefore(e, 'b2', 9, 'b').map(([k]) => k)).toEqual(['a', 'b2', 'b', 'c']);
  });
  it('appends a new session, or one whose predecessor is already gone', () => {
    expect(insertBefore(e, 'd', 4).map(([k]) => k)).toEqual(['a', 'b', 'c', 'd']);
    expect(insertBefore(e, 'd', 4, 'zz').map(([k]) => k)).toEqual(['a', 'b', 'c', 'd']);
  });
});
