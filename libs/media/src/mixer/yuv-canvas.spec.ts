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

  it('blits the current contents of a reused frame buffer, also read at another size', () => {
    const c = new YuvCanvas(8, 4);
    const tile = new YuvCanvas(4, 2);
    tile.fill({ x: 0, y: 0, w: 4, h: 2 }, [200, 10, 240]);
    c.blit(tile.data, 4, 2, 0, 0);
    tile.fill({ x: 0, y: 0, w: 4, h: 2 }, [60, 70, 80]); // a decoder's buffer refilled with the next frame
    c.blit(tile.data, 4, 2, 4, 2);
    expect(c.pixel(0, 0)).toEqual([200, 10, 240]);
    expect(c.pixel(4, 2)).toEqual([60, 70, 80]);
    // the same bytes read as a 2x2 frame (chroma then starts inside the 4x2 frame's luma): rows of the new size
    const small = new YuvCanvas(4, 2);
    small.data.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    c.blit(small.data, 4, 2, 0, 0);
    c.blit(small.data, 2, 2, 0, 2);
    expect([c.pixel(0, 0)[0], c.pixel(3, 1)[0]]).toEqual([1, 8]);
    expect([c.pixel(0, 2), c.pixel(1, 3)]).toEqual([[1, 5, 6], [4, 5, 6]]);
  });

  it('blits a frame scaled into a larger or smaller rectangle', () => {
    const src = new YuvCanvas(4, 4);
    src.fill({ x: 0, y: 0, w: 2, h: 4 }, [200, 100, 150]);
    src.fill({ x: 2, y: 0, w: 2, h: 4 }, [50, 60, 70]);
    const c = new YuvCanvas(16, 8);
    c.blitScaled(src.data, 4, 4, { x: 2, y: 2, w: 8, h: 4 });
    expect(c.pixel(2, 2)).toEqual([200, 100, 150]);
    expect(c.pixel(5, 5)).toEqual([200, 100, 150]);
    expect(c.pixel(6, 2)).toEqual([50, 60, 70]);
    expect(c.pixel(9, 5)).toEqual([50, 60, 70]);
    expect(c.pixel(10, 2)).toEqual([0, 0, 0]); // outside the rectangle: untouched
    c.blitScaled(src.data, 4, 4, { x: 12, y: 0, w: 2, h: 2 });
    expect(c.pixel(12, 0)).toEqual([200, 100, 150]);
    expect(c.pixel(13, 1)[0]).toBe(50);
  });

  it('converts primaries like BT.601 limited range', () => {
    expect(rgbToYuv([0, 0, 0])).toEqual([16, 128, 128]);
    expect(rgbToYuv([255, 255, 255])).toEqual([235, 128, 128]);
    expect(rgbToYuv([255, 0, 0])).toEqual([81, 90, 240]);
  });
});
