import type { Rect } from '@app/core';

export type Yuv = readonly [number, number, number];

/** BT.601 limited-range RGB → YUV, as the encoders and decoders here assume. */
export function rgbToYuv([r, g, b]: readonly [number, number, number]): Yuv {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
  const v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  const c = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  return [c(y), c(u), c(v)];
}

/** A frame's rows as views (Y, then U, then V), made once per frame buffer: copying a row is then one `set`. */
interface RowViews {
  w: number;
  h: number;
  y: Uint8Array[];
  u: Uint8Array[];
  v: Uint8Array[];
}

/**
 * Row views by frame buffer. The buffers blitted are long-lived (a decoder's two frame buffers, cached labels), so
 * the views are made once: `Buffer.copy` of a row range allocates a view on every call (about 3000 per frame for
 * four 640x360 tiles) and is 2-3 times slower than `set` of a ready view.
 */
const rowViews = new WeakMap<Buffer, RowViews>();

function rowsOf(frame: Buffer, w: number, h: number): RowViews {
  const hit = rowViews.get(frame);
  if (hit && hit.w === w && hit.h === h) return hit;
  const fy = w * h;
  const hw = w / 2;
  const fc = hw * (h / 2);
  const r: RowViews = { w, h, y: [], u: [], v: [] };
  for (let row = 0; row < h; row++) r.y.push(frame.subarray(row * w, row * w + w));
  for (let row = 0; row < h / 2; row++) {
    r.u.push(frame.subarray(fy + row * hw, fy + row * hw + hw));
    r.v.push(frame.subarray(fy + fc + row * hw, fy + fc + row * hw + hw));
  }
  rowViews.set(frame, r);
  return r;
}

/** A planar yuv420p frame that tiles are copied into. All rectangles must have even x, y, w, h. */
export class YuvCanvas {
  readonly data: Buffer;
  private readonly ySize: number;
  private readonly cSize: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (width % 2 || height % 2) throw new RangeError('canvas size must be even');
    this.ySize = width * height;
    this.cSize = (width / 2) * (height / 2);
    this.data = Buffer.alloc(this.ySize + 2 * this.cSize);
  }

  static frameSize(w: number, h: number): number {
    return w * h + 2 * (w / 2) * (h / 2);
  }

  fill(r: Rect, [y, u, v]: Yuv): void {
    const W = this.width;
    const cw = W / 2;
    for (let row = r.y; row < r.y + r.h; row++) this.data.fill(y, row * W + r.x, row * W + r.x + r.w);
    for (let row = r.y / 2; row < (r.y + r.h) / 2; row++) {
      this.data.fill(u, this.ySize + row * cw + r.x / 2, this.ySize + row * cw + (r.x + r.w) / 2);
      this.data.fill(v, this.ySize + this.cSize + row * cw + r.x / 2, this.ySize + this.cSize + row * cw + (r.x + r.w) / 2);
    }
  }

  /** Copies a w×h yuv420p frame to (x, y). */
  blit(frame: Buffer, w: number, h: number, x: number, y: number): void {
    const W = this.width;
    const cw = W / 2;
    if (frame.length < YuvCanvas.frameSize(w, h)) throw new RangeError('frame is smaller than its size');
    const rows = rowsOf(frame, w, h);
    const data = this.data;
    for (let row = 0; row < h; row++) data.set(rows.y[row], (y + row) * W + x);
    const u = this.ySize + (y / 2) * cw + x / 2;
    const v = u + this.cSize;
    for (let row = 0; row < h / 2; row++) {
      data.set(rows.u[row], u + row * cw);
      data.set(rows.v[row], v + row * cw);
    }
  }

  /**
   * Copies a sw×sh yuv420p frame scaled (nearest neighbour) into the rectangle `r`. Only a stop-gap while a decoder
   * restarts at a new tile size, so a layout change never shows an empty tile; the decoder's own scaling takes over.
   */
  blitScaled(frame: Buffer, sw: number, sh: number, r: Rect): void {
    if (frame.length < YuvCanvas.frameSize(sw, sh)) throw new RangeError('frame is smaller than its size');
    const W = this.width;
    const cw = W / 2;
    const xs = new Int32Array(r.w);
    for (let x = 0; x < r.w; x++) xs[x] = Math.min(sw - 1, Math.floor((x * sw) / r.w));
    for (let y = 0; y < r.h; y++) {
      const srow = Math.min(sh - 1, Math.floor((y * sh) / r.h)) * sw;
      const drow = (r.y + y) * W + r.x;
      for (let x = 0; x < r.w; x++) this.data[drow + x] = frame[srow + xs[x]];
    }
    const fy = sw * sh;
    const fc = (sw / 2) * (sh / 2);
    const chw = r.w / 2;
    for (let y = 0; y < r.h / 2; y++) {
      const srow = Math.min(sh / 2 - 1, Math.floor((y * sh) / r.h)) * (sw / 2);
      const drow = (r.y / 2 + y) * cw + r.x / 2;
      for (let x = 0; x < chw; x++) {
        const sx = xs[x * 2] >> 1;
        this.data[this.ySize + drow + x] = frame[fy + srow + sx];
        this.data[this.ySize + this.cSize + drow + x] = frame[fy + fc + srow + sx];
      }
    }
  }

  /** A sw×sh yuv420p frame scaled (nearest neighbour) to dw×dh, as a new frame (dw, dh even). */
  static scaled(frame: Buffer, sw: number, sh: number, dw: number, dh: number): Buffer {
    const c = new YuvCanvas(dw, dh);
    c.blitScaled(frame, sw, sh, { x: 0, y: 0, w: dw, h: dh });
    return c.data;
  }

  /** The YUV value at pixel (x, y) — for tests. */
  pixel(x: number, y: number): Yuv {
    const c = Math.floor(y / 2) * (this.width / 2) + Math.floor(x / 2);
    return [this.data[y * this.width + x], this.data[this.ySize + c], this.data[this.ySize + this.cSize + c]];
  }
}
