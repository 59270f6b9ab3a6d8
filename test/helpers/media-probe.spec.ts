import {
  NAMED_COLORS,
  cellRect,
  colorDistance,
  dominantTones,
  insetRect,
  meanColor,
  nearestNamedColor,
  rgbToYuv,
  rms,
  sine,
  toneLevel,
  yuvFrame,
  yuvToRgb,
  type ColorName,
  type RgbFrame,
} from './media-probe';

function solid(width: number, height: number, rgb: readonly number[]): RgbFrame {
  const buf = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) buf.set(rgb, i * 3);
  return { rgb: buf, width, height };
}

describe('meanColor', () => {
  it('averages a solid frame', () => {
    expect(meanColor(solid(8, 4, [10, 20, 30]), { x: 0, y: 0, w: 8, h: 4 })).toEqual([10, 20, 30]);
  });

  it('only looks inside the rect and clips it to the frame', () => {
    const f = solid(4, 2, [0, 0, 0]);
    f.rgb.set([255, 255, 255], (1 * 4 + 3) * 3); // bottom-right pixel white
    expect(meanColor(f, { x: 3, y: 1, w: 10, h: 10 })).toEqual([255, 255, 255]);
    expect(meanColor(f, { x: 2, y: 0, w: 2, h: 2 })).toEqual([63.75, 63.75, 63.75]);
    expect(meanColor(f, { x: 0, y: 0, w: 3, h: 2 })).toEqual([0, 0, 0]);
  });

  it('rejects an empty rect and a short buffer', () => {
    expect(() => meanColor(solid(4, 4, [0, 0, 0]), { x: 4, y: 0, w: 2, h: 2 })).toThrow(/empty rect/);
    expect(() => meanColor({ rgb: Buffer.alloc(10), width: 4, height: 4 }, { x: 0, y: 0, w: 1, h: 1 })).toThrow(
      /too small/,
    );
  });
});

describe('nearestNamedColor', () => {
  it('maps every named colour to itself', () => {
    for (const name of Object.keys(NAMED_COLORS) as ColorName[]) {
      expect(nearestNamedColor(NAMED_COLORS[name])).toBe(name);
    }
  });

  it('tolerates codec-ish error', () => {
    expect(nearestNamedColor([230, 30, 20])).toBe('red');
    expect(nearestNamedColor([20, 200, 40])).toBe('green');
    expect(nearestNamedColor([40, 30, 210])).toBe('blue');
    expect(nearestNamedColor([120, 135, 125])).toBe('grey');
    expect(nearestNamedColor([15, 10, 12])).toBe('black');
    expect(nearestNamedColor([240, 245, 235])).toBe('white');
    expect(colorDistance([0, 0, 0], [3, 4, 0])).toBe(5);
  });
});

describe('cellRect', () => {
  it('tiles the frame exactly, row-major', () => {
    const W = 1280;
    const H = 720;
    for (const [cols, rows] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [3, 2],
    ]) {
      let area = 0;
      for (let i = 0; i < cols * rows; i++) {
        const r = cellRect(cols, rows, i, W, H);
        area += r.w * r.h;
        expect(r.x + r.w).toBeLessThanOrEqual(W);
        expect(r.y + r.h).toBeLessThanOrEqual(H);
      }
      expect(area).toBe(W * H);
    }
    expect(cellRect(2, 2, 1, 1280, 720)).toEqual({ x: 640, y: 0, w: 640, h: 360 });
    expect(cellRect(2, 2, 2, 1280, 720)).toEqual({ x: 0, y: 360, w: 640, h: 360 });
    expect(cellRect(3, 3, 4, 1280, 720)).toEqual({ x: 426, y: 240, w: 427, h: 240 });
    expect(() => cellRect(2, 2, 4, 10, 10)).toThrow();
  });

  it('insetRect keeps the middle', () => {
    expect(insetRect({ x: 100, y: 50, w: 200, h: 100 }, 0.25)).toEqual({ x: 150, y: 75, w: 100, h: 50 });
  });
});

describe('tones', () => {
  const fs = 48000;

  it('measures the amplitude of the tone that is present', () => {
    expect(toneLevel(sine(440, 1, fs, 0.3), fs, 440)).toBeCloseTo(0.3, 2);
    expect(toneLevel(sine(1000, 0.5, fs, 1), fs, 1000)).toBeCloseTo(1, 2);
    // a frequency that is not a whole number of cycles in the window
    expect(toneLevel(sine(523.3, 0.37, fs, 0.5), fs, 523.3)).toBeCloseTo(0.5, 2);
  });

  it('gives ~0 for absent tones and silence', () => {
    const pcm = sine(440, 1, fs, 0.3);
    expect(toneLevel(pcm, fs, 1000)).toBeLessThan(0.005);
    expect(toneLevel(pcm, fs, 660)).toBeLessThan(0.005);
    expect(toneLevel(new Float32Array(fs), fs, 440)).toBe(0);
    expect(toneLevel(new Float32Array(1), fs, 440)).toBe(0);
  });

  it('finds the dominant tones of a mix, loudest first', () => {
    const a = sine(440, 1, fs, 0.2);
    const b = sine(1000, 1, fs, 0.4);
    const mix = a.map((v, i) => v + b[i]);
    expect(dominantTones(mix, fs, [300, 440, 660, 1000, 1500], 0.05)).toEqual([1000, 440]);
    expect(dominantTones(mix, fs, [300, 660], 0.05)).toEqual([]);
  });

  it('rms of a sine is amplitude/sqrt(2)', () => {
    expect(rms(sine(440, 1, fs, 1))).toBeCloseTo(Math.SQRT1_2, 3);
    expect(rms(new Float32Array(0))).toBe(0);
  });
});

describe('yuv', () => {
  it('converts with BT.601 limited range', () => {
    expect(rgbToYuv([0, 0, 0])).toEqual([16, 128, 128]);
    expect(rgbToYuv([255, 255, 255])).toEqual([235, 128, 128]);
    expect(rgbToYuv([255, 0, 0])).toEqual([81, 90, 240]);
    expect(rgbToYuv([0, 255, 0])).toEqual([145, 54, 34]);
    expect(rgbToYuv([0, 0, 255])).toEqual([41, 240, 110]);
  });

  it('round-trips within rounding error', () => {
    for (const c of Object.values(NAMED_COLORS)) {
      expect(colorDistance(yuvToRgb(rgbToYuv(c)), c)).toBeLessThan(4);
    }
  });

  it('builds an I420 frame', () => {
    const f = yuvFrame(4, 2, [255, 0, 0]);
    expect(f.length).toBe(12);
    expect([...f]).toEqual([81, 81, 81, 81, 81, 81, 81, 81, 90, 90, 240, 240]);
    expect(() => yuvFrame(3, 2, [0, 0, 0])).toThrow();
  });
});
