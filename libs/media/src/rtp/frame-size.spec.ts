import { exceedsInputCap, h264FrameSize, h264SpsSize, keyframeSize, vp8FrameSize } from './frame-size';

const hex = (s: string) => Buffer.from(s, 'hex');

/** SPS NAL units written by ffmpeg's libx264 (`-f h264`, first SPS, header byte included). */
const SPS: Array<[string, string, number, number]> = [
  ['baseline 640x480', '6742c01ed900a03db011000003000100000300320f162e48', 640, 480],
  ['baseline 320x180 (cropped from 192 lines)', '6742c00cd901419f9f011000000300100000030320f142a480', 320, 180],
  ['high 1920x1080 (cropped from 1088)', '67640028acd940780227e5c044000003000400000300c83c60c658', 1920, 1080],
  ['main 1366x768 (cropped from 1376)', '674d4020eca02b030f3780880000030008000003019078c18cb0', 1366, 768],
  ['high portrait 360x640', '6764001eacd9417051e5f011000003000100000300320f162d96', 360, 640],
];

describe('h264SpsSize', () => {
  it.each(SPS)('%s', (_name, sps, w, h) => {
    expect(h264SpsSize(hex(sps))).toEqual({ w, h });
  });
  it('is undefined for other NAL units and truncated ones', () => {
    expect(h264SpsSize(hex('68ce3c80'))).toBeUndefined();
    expect(h264SpsSize(hex('6742c01e'))).toBeUndefined();
  });
});

describe('h264FrameSize', () => {
  it('finds the SPS in an Annex-B access unit with 3- and 4-byte start codes', () => {
    const au = Buffer.concat([hex('00000001'), hex('09f0'), hex('00000001'), hex(SPS[2][1]), hex('00000001'), hex('68ebe3cb22c0'), hex('000001'), hex('6588840021ff')]);
    expect(h264FrameSize(au)).toEqual({ w: 1920, h: 1080 });
    expect(keyframeSize('h264', au)).toEqual({ w: 1920, h: 1080 });
  });
  it('is undefined without an SPS', () => {
    expect(h264FrameSize(Buffer.concat([hex('00000001'), hex('4188840021ff')]))).toBeUndefined();
  });
});

describe('vp8FrameSize', () => {
  it.each([
    ['b0ba009d012a8002e001', 640, 480],
    ['3051009d012a4001b400', 320, 180],
    ['9084019d012aff04cf02', 1279, 719],
  ])('key frame %s → %ix%i', (frame, w, h) => {
    expect(vp8FrameSize(hex(frame))).toEqual({ w, h });
    expect(keyframeSize('vp8', hex(frame))).toEqual({ w, h });
  });
  it('is undefined for an inter frame or a bad start code', () => {
    expect(vp8FrameSize(hex('b1ba009d012a8002e001'))).toBeUndefined();
    expect(vp8FrameSize(hex('b0ba009d012b8002e001'))).toBeUndefined();
  });
});

describe('exceedsInputCap', () => {
  it('refuses pictures over 1920x1080 in area (either orientation) or with a side over 4096', () => {
    expect(exceedsInputCap({ w: 1920, h: 1080 })).toBe(false);
    expect(exceedsInputCap({ w: 1080, h: 1920 })).toBe(false); // a portrait phone
    expect(exceedsInputCap({ w: 640, h: 360 })).toBe(false);
    expect(exceedsInputCap({ w: 3840, h: 2160 })).toBe(true);
    expect(exceedsInputCap({ w: 1922, h: 1080 })).toBe(true);
    expect(exceedsInputCap({ w: 8192, h: 16 })).toBe(true); // a thin strip: small area, absurd side
  });
});
