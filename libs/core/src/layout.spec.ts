import { coverCrop, gridLayout, gridShape, letterbox, type Rect, visibleRect } from './layout';

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

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
  ])('%i 16:9 tiles on a 16:9 canvas → %i×%i', (n, cols, rows) => {
    expect(gridShape(n)).toEqual({ cols, rows });
    expect(gridShape(n, 1280, 720)).toEqual({ cols, rows });
  });

  it('stacks on a portrait canvas', () => {
    expect(gridShape(2, 720, 1280)).toEqual({ cols: 1, rows: 2 });
    expect(gridShape(3, 720, 1280)).toEqual({ cols: 1, rows: 3 });
    expect(gridShape(4, 720, 1280)).toEqual({ cols: 1, rows: 4 }); // 568x320 tiles beat 2x2 of 360x202
    expect(gridShape(8, 720, 1280)).toEqual({ cols: 2, rows: 4 });
  });

  it('follows the sources’ shape: portrait sources side by side on a landscape canvas', () => {
    expect(gridShape(3, 1280, 720, 9 / 16)).toEqual({ cols: 3, rows: 1 });
    expect(gridShape(2, 1280, 720, 4 / 3)).toEqual({ cols: 2, rows: 1 });
  });

  it('never has an empty column or row', () => {
    for (const n of [2, 3, 5, 7, 11, 13]) {
      for (const [w, h] of [[1280, 720], [720, 1280], [4000, 100], [100, 4000]]) {
        const { cols, rows } = gridShape(n, w, h);
        expect(cols * rows).toBeGreaterThanOrEqual(n);
        expect(cols * (rows - 1)).toBeLessThan(n);
        expect((cols - 1) * rows).toBeLessThan(n);
      }
    }
  });

  it('rejects negative and fractional counts and empty canvases', () => {
    expect(() => gridShape(-1)).toThrow(RangeError);
    expect(() => gridShape(1.5)).toThrow(RangeError);
    expect(() => gridShape(2, 0, 720)).toThrow(RangeError);
  });
});

describe('gridLayout', () => {
  it('one tile fills the canvas, whatever its shape', () => {
    expect(gridLayout(1, 1280, 720)).toEqual([{ x: 0, y: 0, w: 1280, h: 720 }]);
    expect(gridLayout(1, 720, 1280)).toEqual([{ x: 0, y: 0, w: 720, h: 1280 }]);
    expect(gridLayout(0, 1280, 720)).toEqual([]);
  });

  it('two people on 1280x720: two 16:9 tiles side by side, centred vertically (not two tall letterboxes)', () => {
    expect(gridLayout(2, 1280, 720)).toEqual([
      { x: 0, y: 180, w: 640, h: 360 },
      { x: 640, y: 180, w: 640, h: 360 },
    ]);
  });

  it('three: 2x2 with the last row centred', () => {
    expect(gridLayout(3, 1280, 720)).toEqual([
      { x: 0, y: 0, w: 640, h: 360 },
      { x: 640, y: 0, w: 640, h: 360 },
      { x: 320, y: 360, w: 640, h: 360 },
    ]);
  });

  it('four fill the canvas row by row in join order', () => {
    expect(gridLayout(4, 1280, 720)).toEqual([
      { x: 0, y: 0, w: 640, h: 360 },
      { x: 640, y: 0, w: 640, h: 360 },
      { x: 0, y: 360, w: 640, h: 360 },
      { x: 640, y: 360, w: 640, h: 360 },
    ]);
  });

  it('five: 3x2 of 426x240, centred, the last row of two centred', () => {
    const r = gridLayout(5, 1280, 720);
    for (const t of r) expect([t.w, t.h]).toEqual([426, 240]);
    expect(r.map((t) => [t.x, t.y])).toEqual([
      [0, 120],
      [426, 120],
      [852, 120],
      [214, 360],
      [640, 360],
    ]);
  });

  it('nine: 3x3 of 426x240', () => {
    const r = gridLayout(9, 1280, 720);
    expect(r.map((t) => [t.x, t.y, t.w, t.h])).toEqual(
      [0, 1, 2].flatMap((row) => [0, 1, 2].map((col) => [col * 426, row * 240, 426, 240])),
    );
  });

  it('portrait canvas: two wide tiles stacked, centred', () => {
    expect(gridLayout(2, 720, 1280)).toEqual([
      { x: 0, y: 236, w: 720, h: 404 },
      { x: 0, y: 640, w: 720, h: 404 },
    ]);
  });

  it('tiles keep the sources’ aspect when it is given (4:3)', () => {
    const r = gridLayout(2, 1280, 720, 4 / 3);
    expect(r).toEqual([
      { x: 0, y: 120, w: 640, h: 480 },
      { x: 640, y: 120, w: 640, h: 480 },
    ]);
  });

  it.each([1, 2, 3, 5, 7, 9, 13, 16, 17, 30])('%i tiles: even, inside, non-overlapping, same size, centred', (n) => {
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
        if (n > 1) expect([r.w, r.h]).toEqual([rects[0].w, rects[0].h]);
      }
      for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) expect(overlap(rects[i], rects[j])).toBe(false);
      // centred: the margins on either side differ by at most the rounding to even pixels
      const left = Math.min(...rects.map((r) => r.x));
      const right = w - Math.max(...rects.map((r) => r.x + r.w));
      const top = Math.min(...rects.map((r) => r.y));
      const bottom = h - Math.max(...rects.map((r) => r.y + r.h));
      expect(Math.abs(left - right)).toBeLessThanOrEqual(2);
      expect(Math.abs(top - bottom)).toBeLessThanOrEqual(2);
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

describe('cover and contain', () => {
  it('cover: a 4:3 source in a 16:9 tile loses its top and bottom, centred', () => {
    expect(coverCrop(640, 480, 640, 360)).toEqual({ x: 0, y: 60, w: 640, h: 360 });
    expect(visibleRect('cover', 640, 480, 640, 360)).toEqual({ x: 0, y: 0, w: 640, h: 360 });
  });
  it('cover: a 16:9 source in a tall tile loses its sides', () => {
    expect(coverCrop(1280, 720, 640, 720)).toEqual({ x: 320, y: 0, w: 640, h: 720 });
  });
  it('cover and contain agree when the shapes match', () => {
    expect(coverCrop(320, 180, 640, 360)).toEqual({ x: 0, y: 0, w: 320, h: 180 });
    expect(visibleRect('contain', 320, 180, 640, 360)).toEqual({ x: 0, y: 0, w: 640, h: 360 });
  });
  it('contain: the whole 4:3 picture with pillarbox bands', () => {
    expect(visibleRect('contain', 640, 480, 640, 360)).toEqual({ x: 80, y: 0, w: 480, h: 360 });
  });
  it('contain with an unknown source size assumes 16:9', () => {
    expect(visibleRect('contain', 0, 0, 640, 720)).toEqual({ x: 0, y: 180, w: 640, h: 360 });
  });
});
