import { ffmpegCandidates, ffprobeCandidate, locateFfmpeg, locateFfprobe, missingEncoders } from './ffmpeg-locator';

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

  it('accepts the system ffmpeg, and the ffprobe that goes with it', () => {
    const info = locateFfmpeg(undefined);
    expect(info.version).toMatch(/\d/);
    expect(info.ffprobe.path).toMatch(/ffprobe/);
  });
});

describe('ffprobe location', () => {
  const only = (...files: string[]) => (f: string) => files.includes(f);

  it('takes FFPROBE_PATH first, whatever lies beside ffmpeg', () => {
    expect(ffprobeCandidate('/opt/probe/ffprobe', '/opt/ff/ffmpeg', only('/opt/ff/ffprobe'))).toEqual({ path: '/opt/probe/ffprobe', source: 'FFPROBE_PATH' });
  });

  it('takes the ffprobe beside the ffmpeg binary when there is one', () => {
    expect(ffprobeCandidate(undefined, '/opt/ff/bin/ffmpeg', only('/opt/ff/bin/ffprobe'))).toEqual({ path: '/opt/ff/bin/ffprobe', source: 'beside ffmpeg' });
    expect(ffprobeCandidate(undefined, 'C:\\ff\\ffmpeg.exe', (f) => f.endsWith('ffprobe.exe')).source).toBe('beside ffmpeg');
  });

  it('falls back to PATH when ffmpeg has none beside it (ffmpeg-static) or is itself found on PATH', () => {
    const staticFfmpeg = '/app/node_modules/ffmpeg-static/ffmpeg';
    expect(ffprobeCandidate(undefined, staticFfmpeg, only(staticFfmpeg))).toEqual({ path: 'ffprobe', source: 'PATH' });
    const asked: string[] = [];
    expect(ffprobeCandidate(undefined, 'ffmpeg', (f) => (asked.push(f), true))).toEqual({ path: 'ffprobe', source: 'PATH' });
    expect(asked).toEqual([]); // a bare name has no directory to look in
  });

  it('fails clearly when the chosen ffprobe does not run', () => {
    expect(() => locateFfprobe('/nonexistent/ffprobe', 'ffmpeg')).toThrow(/no usable ffprobe: \/nonexistent\/ffprobe \(FFPROBE_PATH\): not found.*FFPROBE_PATH/);
  });
});
