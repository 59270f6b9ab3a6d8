import { gridLayout, gridShape, letterbox } from './layout';

describe('gridShape', () => {
  it.each([
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 3, 2],
    [6, 3, 2],
    [7, 3, 3],
    [9, 3, 3],
    [10, 4, 3],
    [16, 4, 4],
    [17, 5, 4],
    [25, 5, 5],
  ])('%i tiles → %i×%i', (n, cols, rows) => {
    expect(gridShape(n)).toEqual({ cols, rows });
  });

  it('rejects negative and fractional counts', () => {
    expect(() => gridShape(-1)).toThrow(RangeError);
    expect(() => gridShape(1.5)).toThrow(RangeError);
  });
});

describe('gridLayout', () => {
  it('one tile fills the canvas', () => {
    expect(gridLayout(1, 1280, 720)).toEqual([{ x: 0, y: 0, w: 1280, h: 720 }]);
  });

  it('two tiles sit side by side', () => {
    expect(gridLayout(2, 1280, 720)).toEqual([
      { x: 0, y: 0, w: 640, h: 720 },
      { x: 640, y: 0, w: 640, h: 720 },
    ]);
  });

  it('fills row by row in join order', () => {
    const r = gridLayout(4, 1280, 720);
    expect(r.map((t) => [t.x, t.y])).toEqual([
      [0, 0],
      [640, 0],
      [0, 360],
      [640, 360],
    ]);
  });

  it.each([1, 2, 3, 5, 7, 9, 13, 16, 17, 30])('%i tiles: even, inside, non-overlapping, covering their cells', (n) => {
    for (const [w, h] of [
      [1280, 720],
      [640, 360],
      [854, 480],
      [720, 1280],
      [1002, 998],
    ]) {
      const rects = gridLayout(n, w, h);
      expect(rects).toHaveLength(n);
      for (const r of rects) {
        for (const v of [r.x, r.y, r.w, r.h]) expect(v % 2).toBe(0);
        expect(r.w).toBeGreaterThan(0);
        expect(r.h).toBeGreaterThan(0);
        expect(r.x + r.w).toBeLessThanOrEqual(w);
        expect(r.y + r.h).toBeLessThanOrEqual(h);
      }
      for (let i = 0; i < rects.length; i++)
        for (let j = i + 1; j < rects.length; j++) {
          const a = rects[i];
          const b = rects[j];
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap).toBe(false);
        }
    }
  });
});

describe('letterbox', () => {
  it('keeps 16:9 in a 4:3 tile with bars top and bottom', () => {
    expect(letterbox(640, 360, 640, 480)).toEqual({ x: 0, y: 60, w: 640, h: 360 });
  });
  it('keeps 4:3 in a 16:9 tile with bars left and right', () => {
    expect(letterbox(640, 480, 640, 360)).toEqual({ x: 80, y: 0, w: 480, h: 360 });
  });
  it('portrait source in a landscape tile', () => {
    const r = letterbox(360, 640, 640, 360);
    expect(r.h).toBe(360);
    expect(r.w).toBe(202);
    expect(r.x).toBe(218);
  });
  it('all values even even for odd sizes', () => {
    const r = letterbox(333, 217, 427, 241);
    for (const v of [r.x, r.y, r.w, r.h]) expect(v % 2).toBe(0);
  });
});
