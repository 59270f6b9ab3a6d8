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

/**
 * How a source fills its tile: `cover` scales it to cover the tile and crops the overflow (centred), `contain` keeps
 * the whole picture and fills the rest with bands (letterbox / pillarbox).
 */
export const FITS = ['cover', 'contain'] as const;
export type Fit = (typeof FITS)[number];

/** The sources' shape (w/h) assumed by the layouts: cameras send 16:9 unless they say otherwise. */
export const DEFAULT_SOURCE_ASPECT = 16 / 9;

const even = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);

/** Size of each tile of a cols×rows grid of aspect-`aspect` tiles, as large as fits a width×height canvas (even). */
function tileSize(cols: number, rows: number, width: number, height: number, aspect: number): { w: number; h: number } {
  const cellW = width / cols;
  const cellH = height / rows;
  return { w: Math.max(2, even(Math.min(cellW, cellH * aspect))), h: Math.max(2, even(Math.min(cellH, cellW / aspect))) };
}

/**
 * Grid shape for n tiles of aspect `aspect` (w/h) on a width×height canvas: the column count that gives the largest
 * tiles. Only shapes without an empty row or column are considered; a tie (same tile size, e.g. two 16:9 tiles on a
 * 16:9 canvas side by side or stacked) goes to more columns on a landscape (or square) canvas, more rows on a portrait
 * one. On a 16:9 canvas with 16:9 sources: 1 → 1×1, 2 → 2×1, 3–4 → 2×2, 5–6 → 3×2, 7–9 → 3×3, 10–12 → 4×3, …
 */
export function gridShape(n: number, width = 16, height = 9, aspect = DEFAULT_SOURCE_ASPECT): GridShape {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`tile count must be a non-negative integer, got ${n}`);
  if (!(width > 0 && height > 0 && aspect > 0)) throw new RangeError(`canvas and aspect must be positive, got ${width}x${height}, ${aspect}`);
  if (n === 0) return { cols: 0, rows: 0 };
  const landscape = width >= height;
  let best: GridShape & { side: number } = { cols: 1, rows: n, side: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    if (Math.ceil(n / rows) !== cols) continue; // an empty column: the same rows with fewer columns is the shape
    // tile width (the height follows from the aspect): as floats, so the choice does not depend on pixel rounding
    const side = Math.min(width / cols, (height / rows) * aspect);
    const better = side > best.side * (1 + 1e-9);
    const tie = !better && side >= best.side * (1 - 1e-9);
    if (better || (tie && landscape)) best = { cols, rows, side };
  }
  return { cols: best.cols, rows: best.rows };
}

/**
 * Tiles of a grid for n sources of aspect `aspect` (w/h) in an output of width×height, row by row in join order: the
 * shape with the largest tiles (see gridShape), every tile the same size with the sources' aspect, the grid centred
 * on the canvas and a last row with fewer tiles centred too. One source takes the whole canvas. Every value is even.
 */
export function gridLayout(n: number, width: number, height: number, aspect = DEFAULT_SOURCE_ASPECT): Rect[] {
  const { cols, rows } = gridShape(n, width, height, aspect);
  if (n === 0) return [];
  if (n === 1) return [{ x: 0, y: 0, w: even(width), h: even(height) }];
  const { w, h } = tileSize(cols, rows, width, height, aspect);
  const top = even((height - rows * h) / 2);
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / cols);
    const inRow = r === rows - 1 ? n - r * cols : cols;
    const left = even((width - inRow * w) / 2);
    rects.push({ x: left + (i % cols) * w, y: top + r * h, w, h });
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

/**
 * The part of a srcW×srcH source that a `cover` tile of tileW×tileH shows (in source pixels, centred): the whole
 * source along one axis, cropped along the other.
 */
export function coverCrop(srcW: number, srcH: number, tileW: number, tileH: number): Rect {
  if (srcW <= 0 || srcH <= 0 || tileW <= 0 || tileH <= 0) return { x: 0, y: 0, w: Math.max(0, srcW), h: Math.max(0, srcH) };
  const scale = Math.max(tileW / srcW, tileH / srcH);
  const w = Math.min(srcW, tileW / scale);
  const h = Math.min(srcH, tileH / scale);
  return { x: (srcW - w) / 2, y: (srcH - h) / 2, w, h };
}

/**
 * Where the picture of a srcW×srcH source is inside its tile, relative to the tile: `cover` fills the tile;
 * `contain` is the letterboxed rectangle. A source of unknown size (0) is taken as `DEFAULT_SOURCE_ASPECT`.
 */
export function visibleRect(fit: Fit, srcW: number, srcH: number, tileW: number, tileH: number): Rect {
  if (fit === 'cover') return { x: 0, y: 0, w: even(tileW), h: even(tileH) };
  return srcW > 0 && srcH > 0 ? letterbox(srcW, srcH, tileW, tileH) : letterbox(DEFAULT_SOURCE_ASPECT * 1000, 1000, tileW, tileH);
}
