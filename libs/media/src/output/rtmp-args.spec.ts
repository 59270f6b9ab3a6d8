import { flagPairs, pairs } from '../../../../test/support/arg-pairs';
import { progressOutTimeUs, rtmpArgs, rtmpNeedsVideoTranscode } from './rtmp-args';

describe('RTMP push: ffmpeg arguments', () => {
  const url = 'rtmp://127.0.0.1:1935/live/key';
  it('copies H.264, makes AAC, pushes FLV to the URL as the last argument', () => {
    const a = rtmpArgs({ videoCodec: 'h264', url });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-f', 'ivf', '-i', 'pipe:0', '-f', 'ogg', '-i', 'pipe:3', '-c:v', 'copy', '-c:a', 'aac', '-progress', 'pipe:1')));
    expect(a.slice(-3)).toEqual(['-f', 'flv', url]);
    expect(a.filter((x) => x === url)).toHaveLength(1);
    expect(a.join(' ')).not.toMatch(/libx264/);
  });
  it('transcodes VP8 to H.264 (FLV cannot carry VP8)', () => {
    expect(rtmpNeedsVideoTranscode('vp8')).toBe(true);
    const a = rtmpArgs({ videoCodec: 'vp8', url, videoBitrateKbps: 800, fps: 15 });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', '800k', '-g', '15')));
    expect(a).not.toContain('copy');
  });
  it('refuses unsafe URLs even if called directly', () => {
    expect(() => rtmpArgs({ videoCodec: 'h264', url: '-i' })).toThrow();
    expect(() => rtmpArgs({ videoCodec: 'h264', url: 'file:/tmp/x.flv' })).toThrow();
  });
  it('reads progress', () => {
    expect(progressOutTimeUs('frame=8\nout_time_us=234000\nout_time_ms=234000\nprogress=continue\n')).toBe(234000);
    expect(progressOutTimeUs('frame=0\n')).toBeUndefined();
  });
});
