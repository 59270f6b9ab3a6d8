import { flagPairs, pairs } from '../../../../test/support/arg-pairs';
import { decoderArgs, encoderArgs, ffColor, FORCE_KEYFRAME_EXPR, h264Level, labelBatchArgs } from './ffmpeg-args';

describe('decoderArgs', () => {
  it('caps the decoded picture at MAX_INPUT_PIXELS (-max_pixels, an input option before -i)', () => {
    for (const codec of ['vp8', 'h264'] as const) {
      const a = decoderArgs({ codec, tileWidth: 640, tileHeight: 360, padColor: [16, 16, 16] });
      const at = a.indexOf('-max_pixels');
      expect(at).toBeGreaterThan(-1);
      expect(a[at + 1]).toBe(String(1920 * 1080));
      expect(at).toBeLessThan(a.indexOf('-i'));
    }
  });
  it('decodes VP8 from IVF on stdin into a letterboxed raw tile on stdout', () => {
    const a = decoderArgs({ codec: 'vp8', tileWidth: 640, tileHeight: 360, padColor: [16, 16, 16] });
    expect(a.slice(a.indexOf('-f'), a.indexOf('-f') + 2)).toEqual(['-f', 'ivf']);
    expect(a).toContain('pipe:0');
    expect(a[a.length - 1]).toBe('pipe:1');
    const vf = a[a.indexOf('-vf') + 1];
    expect(vf).toContain('scale=640:360:force_original_aspect_ratio=decrease');
    expect(vf).toContain('pad=640:360:(ow-iw)/2:(oh-ih)/2:color=0x101010');
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-fps_mode', 'passthrough', '-pix_fmt', 'yuv420p')));
  });
  it('cover: scales up to cover the tile and crops the overflow, centred, no bands', () => {
    const a = decoderArgs({ codec: 'h264', tileWidth: 640, tileHeight: 360, fit: 'cover', padColor: [16, 16, 16] });
    const vf = a[a.indexOf('-vf') + 1];
    expect(vf).toBe('scale=640:360:force_original_aspect_ratio=increase:flags=bilinear,crop=640:360,format=yuv420p');
    expect(vf).not.toContain('pad=');
  });
  it('contain (the default) keeps the whole picture with bands of the pad colour', () => {
    const a = decoderArgs({ codec: 'vp8', tileWidth: 320, tileHeight: 240, fit: 'contain', padColor: [32, 32, 40] });
    expect(a).toEqual(decoderArgs({ codec: 'vp8', tileWidth: 320, tileHeight: 240, padColor: [32, 32, 40] }));
    expect(a[a.indexOf('-vf') + 1]).toBe('scale=320:240:force_original_aspect_ratio=decrease:flags=bilinear,pad=320:240:(ow-iw)/2:(oh-ih)/2:color=0x202028,format=yuv420p');
  });
  it('listens on a Unix socket for its reader when given one', () => {
    const a = decoderArgs({ codec: 'vp8', tileWidth: 640, tileHeight: 360, padColor: [0, 0, 0], unixSocket: '/tmp/x/1.sock' });
    expect(a.slice(-3)).toEqual(['-listen', '1', 'unix:/tmp/x/1.sock']);
    expect(a).not.toContain('pipe:1');
  });
  it('uses the raw H.264 demuxer for H.264', () => {
    const a = decoderArgs({ codec: 'h264', tileWidth: 320, tileHeight: 240, padColor: [0, 0, 0] });
    expect(a[a.indexOf('-i') - 1]).toBe('h264');
  });
  it('refuses odd tile sizes', () => {
    expect(() => decoderArgs({ codec: 'vp8', tileWidth: 641, tileHeight: 360, padColor: [0, 0, 0] })).toThrow(RangeError);
  });
  it('is an argument array without shell syntax', () => {
    for (const arg of decoderArgs({ codec: 'vp8', tileWidth: 2, tileHeight: 2, padColor: [0, 0, 0] })) {
      expect(arg).not.toMatch(/[;&|`$]/);
    }
  });
});

/** Each flag is followed by its value (arrayContaining would pass with the pairs scattered). */
const expectPairs = (args: string[], pairs: Array<[string, string]>) => {
  for (const [flag, value] of pairs) expect([flag, args[args.indexOf(flag) + 1]]).toEqual([flag, value]);
};

describe('encoderArgs', () => {
  const common = { width: 1280, height: 720, fps: 30, bitrateKbps: 1500, gop: 300, rtpPort: 40000, payloadType: 102, ssrc: 1234 };
  it('encodes H.264 constrained baseline, low latency, CBR, keyframes where the caller marks them, to loopback RTP', () => {
    const a = encoderArgs({ codec: 'h264', ...common });
    expectPairs(a, [['-f', 'ivf'], ['-i', 'pipe:0'], ['-c:v', 'libx264'], ['-tune', 'zerolatency'], ['-profile:v', 'baseline'], ['-bf', '0']]);
    expectPairs(a, [['-r', '30'], ['-b:v', '1500k'], ['-maxrate', '1500k'], ['-g', '300'], ['-forced-idr', '1']]);
    expectPairs(a, [['-fps_mode', 'passthrough'], ['-enc_time_base', '1:90000'], ['-force_key_frames', FORCE_KEYFRAME_EXPR]]);
    expectPairs(a, [['-level:v', '3.1'], ['-payload_type', '102'], ['-ssrc', '1234']]);
    expect(a).not.toContain('-vf'); // same size in and out: no scaler
    expect(a[a.length - 1]).toBe('rtp://127.0.0.1:40000?pkt_size=1200');
  });
  it('scales the canvas down for a lower rendition', () => {
    const a = encoderArgs({ codec: 'h264', ...common, inputWidth: 1280, inputHeight: 720, width: 320, height: 180, fps: 20, bitrateKbps: 150 });
    expectPairs(a, [['-vf', 'scale=320:180:flags=bilinear'], ['-r', '20'], ['-b:v', '150k'], ['-level:v', '3.0']]);
    expect(() => encoderArgs({ codec: 'h264', ...common, width: 321 })).toThrow(RangeError);
  });
  it('encodes VP8 in real time on one thread', () => {
    const a = encoderArgs({ codec: 'vp8', ...common, bitrateKbps: 800 });
    expectPairs(a, [['-c:v', 'libvpx'], ['-deadline', 'realtime'], ['-threads', '1'], ['-b:v', '800k'], ['-force_key_frames', FORCE_KEYFRAME_EXPR]]);
    expect(a).not.toContain('libx264');
  });
});

describe('helpers', () => {
  it('ffColor formats and clamps', () => {
    expect(ffColor([255, 0, 16])).toBe('0xff0010');
    expect(ffColor([300, -5, 1.6])).toBe('0xff0002');
  });
  it('h264Level picks the smallest fitting level', () => {
    expect(h264Level(640, 360, 30)).toBe('3.0');
    expect(h264Level(1280, 720, 30)).toBe('3.1');
    expect(h264Level(1280, 720, 60)).toBe('3.2');
    expect(h264Level(1920, 1080, 30)).toBe('4.0');
  });
});

describe('labelBatchArgs', () => {
  it('renders several labels in one run, each text read from a file with expansion off, each to its raw file', () => {
    const a = labelBatchArgs([
      { textFile: '/tmp/x/1.txt', width: 200, height: 32, background: [16, 16, 20], output: '/tmp/x/1.yuv' },
      { textFile: '/tmp/x/2.txt', width: 100, height: 16, background: [64, 64, 72], output: '/tmp/x/2.yuv' },
    ]);
    expect(a).toContain('color=c=0x101014:s=200x32:d=1');
    expect(a).toContain('color=c=0x404048:s=100x16:d=1');
    const fc = a[a.indexOf('-filter_complex') + 1].split(';');
    expect(fc).toHaveLength(2);
    expect(fc[0]).toMatch(/^\[0:v\]drawtext=textfile=\/tmp\/x\/1\.txt:expansion=none:.*\[l0\]$/);
    expect(fc[1]).toMatch(/^\[1:v\]drawtext=textfile=\/tmp\/x\/2\.txt:expansion=none:.*\[l1\]$/);
    expect(a.slice(-10)).toEqual(['-map', '[l1]', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-y', '/tmp/x/2.yuv']);
  });
  it('refuses odd sizes and empty batches', () => {
    expect(() => labelBatchArgs([{ textFile: 'f', width: 201, height: 32, background: [0, 0, 0], output: 'o' }])).toThrow(RangeError);
    expect(() => labelBatchArgs([])).toThrow(RangeError);
  });
});
