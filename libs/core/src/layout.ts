/** Pure layout geometry for the composite. All rectangles are in output pixels with even x/y/w/h (yuv420p chroma). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface GridShape {
  cols: number;
  rows: number;
}

/** Grid shape for n tiles: 1 → 1×1, 2 → 2×1, 3–4 → 2×2, 5–6 → 3×2, 7–9 → 3×3, 10–12 → 4×3, 13–16 → 4×4, … */
export function gridShape(n: number): GridShape {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`tile count must be a non-negative integer, got ${n}`);
  if (n === 0) return { cols: 0, rows: 0 };
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  return { cols, rows };
}

const even = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);

/**
 * Tiles of a grid for n publishers in an output of width×height, filled row by row in join order.
 * Cells tile the whole canvas (the last column/row absorbs rounding) and every value is even.
 */
export function gridLayout(n: number, width: number, height: number): Rect[] {
  const { cols, rows } = gridShape(n);
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % cols;
    const r = Math.floor(i / cols);
    const x0 = even((c * width) / cols);
    const x1 = c === cols - 1 ? even(width) : even(((c + 1) * width) / cols);
    const y0 = even((r * height) / rows);
    const y1 = r === rows - 1 ? even(height) : even(((r + 1) * height) / rows);
    rects.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }
  return rects;
}

/**
 * Where a source of srcW×srcH lands inside a tile when letterboxed (aspect kept, centred, even values).
 * Returns the inner rectangle relative to the tile.
 */
export function letterbox(srcW: number, srcH: number, tileW: number, tileH: number): Rect {
  if (srcW <= 0 || srcH <= 0) return { x: 0, y: 0, w: even(tileW), h: even(tileH) };
  const scale = Math.min(tileW / srcW, tileH / srcH);
  const w = Math.max(2, even(srcW * scale));
  const h = Math.max(2, even(srcH * scale));
  return { x: even((tileW - w) / 2), y: even((tileH - h) / 2), w, h };
}
