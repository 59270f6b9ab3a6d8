import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { probeDuration, stitchParts } from './stitch';

const BINS = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };

/** Stitching on real media: two recorder-like parts (fragmented MP4, H.264 + Opus) of different colours. */
describe('stitchParts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stitch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `seconds` of one colour and a tone, written the way the recorder writes (1 s fragments, empty moov). */
  const part = (name: string, color: string, seconds: number) => {
    const file = path.join(dir, name);
    execFileSync('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', `color=c=${color}:s=160x90:r=15:d=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'libopus',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4', file,
    ]);
    return file;
  };
  /** The mean colour of the frame at `at` s, as one RGB pixel. */
  const pixel = (file: string, at: number) => [...execFileSync('ffmpeg', ['-v', 'error', '-ss', String(at), '-i', file, '-frames:v', '1', '-vf', 'scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'])];

  it('joins the parts in order into one playable file as long as they are together, and keeps the parts', async () => {
    const a = part('rec.part1.mp4', 'red', 2);
    const b = part('rec.part2.mp4', 'blue', 1.5);
    const [da, db] = [await probeDuration(a, BINS), await probeDuration(b, BINS)];
    const output = path.join(dir, 'rec.mp4');
    const r = await stitchParts({ bins: BINS, format: 'mp4', parts: [{ file: a, durationSeconds: da! }, { file: b, durationSeconds: db! }], output });
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    expect(Math.abs(r.durationSeconds - (da! + db!))).toBeLessThan(0.5);
    expect(r.sizeBytes).toBeGreaterThan(1000);
    const [red, blue] = [pixel(output, 0.5), pixel(output, da! + 0.7)];
    expect(red[0]).toBeGreaterThan(200);
    expect(red[2]).toBeLessThan(60);
    expect(blue[2]).toBeGreaterThan(200);
    expect(blue[0]).toBeLessThan(60);
    expect(readdirSync(dir).sort()).toEqual(['rec.mp4', 'rec.part1.mp4', 'rec.part2.mp4']); // no list or temporary file left
  });

  it('reports a failure without writing the output or touching the parts', async () => {
    const a = part('bad.part1.mp4', 'green', 1);
    const junk = path.join(dir, 'bad.part2.mp4');
    writeFileSync(junk, 'not media at all');
    const output = path.join(dir, 'bad.mp4');
    const r = await stitchParts({ bins: BINS, format: 'mp4', parts: [{ file: a, durationSeconds: 1 }, { file: junk, durationSeconds: 1 }], output });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/stitch|lasts|playable/);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(a) && existsSync(junk)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.')).sort()).toEqual(['bad.part1.mp4', 'bad.part2.mp4']);
  });
});
