import { ffmpegCandidates, locateFfmpeg, missingEncoders } from './ffmpeg-locator';

describe('ffmpeg location', () => {
  it('prefers FFMPEG_PATH, then ffmpeg-static, then PATH', () => {
    expect(ffmpegCandidates('/opt/ff', '/nm/ffmpeg-static/ffmpeg').map((c) => c.source)).toEqual(['FFMPEG_PATH', 'ffmpeg-static', 'PATH']);
    expect(ffmpegCandidates(undefined, null).map((c) => c.path)).toEqual(['ffmpeg']);
  });

  it('finds missing encoders in `ffmpeg -encoders` output', () => {
    const out = [' V....D libx264              libx264 H.264', ' V....D libvpx               libvpx VP8', ' A....D aac   AAC'].join('\n');
    expect(missingEncoders(out)).toEqual(['libopus']);
  });

  it('fails clearly when FFMPEG_PATH does not exist', () => {
    expect(() => locateFfmpeg('/nonexistent/ffmpeg')).toThrow(/no usable ffmpeg.*\/nonexistent\/ffmpeg.*FFMPEG_PATH/);
  });

  it('accepts the system ffmpeg', () => {
    expect(locateFfmpeg(undefined).version).toMatch(/\d/);
  });
});
