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
    const fy = w * h;
    const fc = (w / 2) * (h / 2);
    if (frame.length < fy + 2 * fc) throw new RangeError('frame is smaller than its size');
    for (let row = 0; row < h; row++) frame.copy(this.data, (y + row) * W + x, row * w, row * w + w);
    const hw = w / 2;
    for (let row = 0; row < h / 2; row++) {
      const dst = (y / 2 + row) * cw + x / 2;
      frame.copy(this.data, this.ySize + dst, fy + row * hw, fy + row * hw + hw);
      frame.copy(this.data, this.ySize + this.cSize + dst, fy + fc + row * hw, fy + fc + row * hw + hw);
    }
  }

  /** The YUV value at pixel (x, y) — for tests. */
  pixel(x: number, y: number): Yuv {
    const c = Math.floor(y / 2) * (this.width / 2) + Math.floor(x / 2);
    return [this.data[y * this.width + x], this.data[this.ySize + c], this.data[this.ySize + this.cSize + c]];
  }
}
