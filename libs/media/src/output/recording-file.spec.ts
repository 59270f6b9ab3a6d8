import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isFragmented, matroskaTopLevel, moovBeforeMdat } from '../../../../test/helpers/container-index';
import { launchChildrenWith } from '../ffmpeg/launch';
import { directLaunch, type Launch } from '../ffmpeg/spawner';
import { probeMedia, timemarkSeconds } from './fluent';
import { remuxIndexFront, writeThumbnail } from './recording-file';

/** The one-shot jobs on real media: a recorder-like fragmented MP4 and a WebM (red picture, a tone). */
describe('one-shot jobs on a recording (fluent-ffmpeg)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'recording-file-'));
  const bins = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };
  const launched: string[][] = [];
  const counting: Launch = (command, args, fds) => (launched.push([command, ...args]), directLaunch(command, args, fds));
  beforeAll(() => launchChildrenWith(counting));
  afterAll(() => {
    launchChildrenWith(directLaunch);
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (name: string, container: string[], codecs: string[]) => {
    const file = path.join(dir, name);
    execFileSync('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'color=c=red:s=160x90:r=15:d=3',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=3',
      ...codecs, '-c:a', 'libopus', ...container, file,
    ]);
    return file;
  };
  /** The mean colour of the centre of a picture file, as one RGB pixel. */
  const centre = (file: string) => [...execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'crop=iw/2:ih/2,scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'])];

  it('rewrites a fragmented MP4 with moov before mdat, the same length, reporting progress; every process through launchChild', async () => {
    const input = make('rec.mp4', ['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4'], ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p']);
    expect(isFragmented(readFileSync(input))).toBe(true);
    const output = path.join(dir, 'rec.finishing.mp4');
    const progress: number[] = [];
    await remuxIndexFront({ bins, input, output, format: 'mp4', onProgress: (s) => progress.push(s) });
    const out = readFileSync(output);
    expect(moovBeforeMdat(out)).toBe(true);
    expect(isFragmented(out)).toBe(false);
    const [a, b] = [await probeMedia(input, bins), await probeMedia(output, bins)];
    expect(Math.abs(b!.durationSeconds! - a!.durationSeconds!)).toBeLessThan(0.1);
    expect(b!.streams.map((s) => `${s.type}:${s.codec}`).sort()).toEqual(['audio:opus', 'video:h264']);
    expect(progress.length).toBeGreaterThan(0);
    expect(launched.length).toBeGreaterThan(0);
    // each through prlimit (the memory bound, see ffmpeg/memory-limit.ts), which execs the tool itself
    const tool = (argv: string[]) => (/prlimit$/.test(argv[0]) ? argv[argv.indexOf('--') + 1] : argv[0]);
    expect(launched.every((argv) => /prlimit$/.test(argv[0]) && ['ffmpeg', 'ffprobe'].includes(tool(argv)))).toBe(true);
  });

  it('puts a WebM’s Cues before its first Cluster', async () => {
    const input = make('rec.webm', ['-f', 'webm'], ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8']);
    const output = path.join(dir, 'rec.finishing.webm');
    await remuxIndexFront({ bins, input, output, format: 'webm' });
    const order = (file: string) => matroskaTopLevel(readFileSync(file)).filter((n) => n === 'Cues' || n === 'Cluster');
    expect(order(input).at(-1)).toBe('Cues'); // as written: after the clusters
    expect(order(output)[0]).toBe('Cues');
    expect(order(output).filter((n) => n === 'Cues')).toHaveLength(1);
  });

  it('writes a JPEG thumbnail of the picture', async () => {
    const output = path.join(dir, 'rec.jpg');
    await writeThumbnail({ bins, input: path.join(dir, 'rec.mp4'), output, durationSeconds: 3 });
    expect(readFileSync(output).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const [r, g, b] = centre(output);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(80);
  });

  it('fails with ffmpeg’s reason, and probing an unreadable file says nothing', async () => {
    await expect(remuxIndexFront({ bins, input: path.join(dir, 'missing.mp4'), output: path.join(dir, 'x.mp4'), format: 'mp4' })).rejects.toThrow(/No such file/);
    expect(await probeMedia(path.join(dir, 'missing.mp4'), bins)).toBeUndefined();
  });

  it('reads timemarks', () => {
    expect(timemarkSeconds('00:01:02.50')).toBe(62.5);
    expect(timemarkSeconds('-00:00:01.00')).toBe(0);
    expect(timemarkSeconds(undefined)).toBe(0);
  });
});
