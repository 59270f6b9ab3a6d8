import { rgbToYuv, YuvCanvas } from './yuv-canvas';

describe('YuvCanvas', () => {
  it('fills rectangles and blits frames into place', () => {
    const c = new YuvCanvas(8, 4);
    c.fill({ x: 0, y: 0, w: 8, h: 4 }, [16, 128, 128]);
    const tile = new YuvCanvas(4, 2);
    tile.fill({ x: 0, y: 0, w: 4, h: 2 }, [200, 10, 240]);
    c.blit(tile.data, 4, 2, 4, 2);
    expect(c.pixel(0, 0)).toEqual([16, 128, 128]);
    expect(c.pixel(3, 3)).toEqual([16, 128, 128]);
    expect(c.pixel(4, 2)).toEqual([200, 10, 240]);
    expect(c.pixel(7, 3)).toEqual([200, 10, 240]);
    expect(c.data.length).toBe(YuvCanvas.frameSize(8, 4));
  });

  it('converts primaries like BT.601 limited range', () => {
    expect(rgbToYuv([0, 0, 0])).toEqual([16, 128, 128]);
    expect(rgbToYuv([255, 255, 255])).toEqual([235, 128, 128]);
    expect(rgbToYuv([255, 0, 0])).toEqual([81, 90, 240]);
  });
});
