import { placeLabel } from './room-mixer';

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
    expect(p).toEqual({ x: 0, y: 52, w: 200, h: 16 });
    const q = placeLabel('Bo', { x: 100, y: 0, w: 400, h: 400 }, true);
    expect(q.x - 100).toBe(400 - (q.x - 100) - q.w);
  });
});
