/**
 * Pure functions to generate synthetic media and to measure decoded media (no I/O, no timers).
 */

export type Rgb = [number, number, number];

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A packed rgb24 frame (3 bytes per pixel, rows top to bottom, no padding). */
export interface RgbFrame {
  rgb: Buffer;
  width: number;
  height: number;
}

export const NAMED_COLORS = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  magenta: [255, 0, 255],
  cyan: [0, 255, 255],
  white: [255, 255, 255],
  grey: [128, 128, 128],
  black: [0, 0, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export type ColorName = keyof typeof NAMED_COLORS;

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** Mean colour of `rect` (clipped to the frame) as [r, g, b] floats in 0..255. */
export function meanColor(frame: RgbFrame, rect: Rect): Rgb {
  const x0 = clamp(Math.floor(rect.x), 0, frame.width);
  const y0 = clamp(Math.floor(rect.y), 0, frame.height);
  const x1 = clamp(Math.floor(rect.x + rect.w), x0, frame.width);
  const y1 = clamp(Math.floor(rect.y + rect.h), y0, frame.height);
  if (frame.rgb.length < frame.width * frame.height * 3) {
    throw new Error(`meanColor: buffer of ${frame.rgb.length} bytes is too small for ${frame.width}x${frame.height}`);
  }
  let r = 0;
  let g = 0;
  let b = 0;
  const n = (x1 - x0) * (y1 - y0);
  if (n === 0) throw new Error(`meanColor: empty rect ${JSON.stringify(rect)} in ${frame.width}x${frame.height}`);
  for (let y = y0; y < y1; y++) {
    let i = (y * frame.width + x0) * 3;
    for (let x = x0; x < x1; x++, i += 3) {
      r += frame.rgb[i];
      g += frame.rgb[i + 1];
      b += frame.rgb[i + 2];
    }
  }
  return [r / n, g / n, b / n];
}

/** Euclidean distance in RGB space. */
export function colorDistance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** The closest of {@link NAMED_COLORS} to `rgb`. */
export function nearestNamedColor(rgb: readonly number[]): ColorName {
  let best: ColorName = 'black';
  let bestD = Infinity;
  for (const name of Object.keys(NAMED_COLORS) as ColorName[]) {
    const d = colorDistance(rgb, NAMED_COLORS[name]);
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}

/** Cell `index` (row-major) of a `cols` x `rows` grid that exactly tiles a `width` x `height` frame. */
export function cellRect(cols: number, rows: number, index: number, width: number, height: number): Rect {
  if (cols < 1 || rows < 1 || index < 0 || index >= cols * rows) {
    throw new Error(`cellRect: index ${index} outside a ${cols}x${rows} grid`);
  }
  const col = index % cols;
  const row = Math.floor(index / cols);
  const x = Math.floor((col * width) / cols);
  const y = Math.floor((row * height) / rows);
  return { x, y, w: Math.floor(((col + 1) * width) / cols) - x, h: Math.floor(((row + 1) * height) / rows) - y };
}

/** Shrink `rect` by `fraction` of its size on every side (e.g. 0.2 keeps the middle 60%), to stay clear of edges. */
export function insetRect(rect: Rect, fraction: number): Rect {
  const dx = Math.floor(rect.w * fraction);
  const dy = Math.floor(rect.h * fraction);
  return { x: rect.x + dx, y: rect.y + dy, w: Math.max(1, rect.w - 2 * dx), h: Math.max(1, rect.h - 2 * dy) };
}

/**
 * Amplitude of the `hz` component of `pcm` (floats in -1..1), estimated with a Hann-windowed Goertzel filter:
 * a full-scale sine at `hz` gives ~1.0, a sine of amplitude 0.3 gives ~0.3, silence and other tones give ~0.
 */
export function toneLevel(pcm: Float32Array, sampleRate: number, hz: number): number {
  const n = pcm.length;
  if (n < 2) return 0;
  const w = (2 * Math.PI * hz) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    wsum += win;
    const s0 = pcm[i] * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const re = s1 - s2 * Math.cos(w);
  const im = s2 * Math.sin(w);
  return (2 * Math.hypot(re, im)) / wsum;
}

/** The candidates whose {@link toneLevel} is at least `threshold`, loudest first. */
export function dominantTones(
  pcm: Float32Array,
  sampleRate: number,
  candidateHz: readonly number[],
  threshold: number,
): number[] {
  return candidateHz
    .map((hz) => ({ hz, level: toneLevel(pcm, sampleRate, hz) }))
    .filter((t) => t.level >= threshold)
    .sort((a, b) => b.level - a.level)
    .map((t) => t.hz);
}

/** Root mean square of `pcm` (a full-scale sine gives ~0.707). */
export function rms(pcm: Float32Array): number {
  if (pcm.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < pcm.length; i++) s += pcm[i] * pcm[i];
  return Math.sqrt(s / pcm.length);
}

/** Sine samples (for tests): `seconds` of `hz` at `amplitude`. */
export function sine(hz: number, seconds: number, sampleRate = 48000, amplitude = 1): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  return out;
}

/** RGB (0..255) to BT.601 limited-range Y'CbCr (Y 16..235, Cb/Cr 16..240), rounded. */
export function rgbToYuv(rgb: readonly number[]): [number, number, number] {
  const r = clamp(rgb[0], 0, 255) / 255;
  const g = clamp(rgb[1], 0, 255) / 255;
  const b = clamp(rgb[2], 0, 255) / 255;
  const y = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
  const cb = 128 - 37.797 * r - 74.203 * g + 112.0 * b;
  const cr = 128 + 112.0 * r - 93.786 * g - 18.214 * b;
  return [Math.round(y), Math.round(cb), Math.round(cr)];
}

/** Inverse of {@link rgbToYuv} (BT.601 limited range), clamped to 0..255 and rounded. */
export function yuvToRgb(yuv: readonly number[]): Rgb {
  const y = (yuv[0] - 16) * 1.164383;
  const cb = yuv[1] - 128;
  const cr = yuv[2] - 128;
  const c = (v: number): number => clamp(Math.round(v), 0, 255);
  return [c(y + 1.596027 * cr), c(y - 0.391762 * cb - 0.812968 * cr), c(y + 2.017232 * cb)];
}

/** A solid-colour yuv420p (I420) frame: Y plane then U (Cb) then V (Cr) at quarter size. Even sizes only. */
export function yuvFrame(width: number, height: number, rgb: readonly number[]): Buffer {
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error(`yuvFrame: ${width}x${height} must be even`);
  const [y, u, v] = rgbToYuv(rgb);
  const ySize = width * height;
  const cSize = ySize / 4;
  const buf = Buffer.allocUnsafe(ySize + 2 * cSize);
  buf.fill(y, 0, ySize);
  buf.fill(u, ySize, ySize + cSize);
  buf.fill(v, ySize + cSize);
  return buf;
}
