import { spawnSync } from 'node:child_process';
import { type RgbFrame } from '../helpers/media-probe';

/** ffprobe/ffmpeg readers for recorded files: what streams it has, how long it is, a frame, its audio. */
export interface ProbeInfo {
  durationSeconds: number;
  streams: Array<{ codec_type: string; codec_name: string }>;
}

export function probe(file: string): ProbeInfo {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { format: { duration?: string }; streams: ProbeInfo['streams'] };
  return { durationSeconds: Number(j.format.duration ?? 0), streams: j.streams };
}

/** One decoded frame at `atSeconds`, scaled to w×h RGB. */
export function frameAt(file: string, atSeconds: number, w = 320, h = 180): RgbFrame {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-ss', String(atSeconds), '-i', file, '-frames:v', '1', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0 || r.stdout.length < w * h * 3) throw new Error(`no frame at ${atSeconds}s in ${file}: ${r.stderr}`);
  return { rgb: r.stdout.subarray(0, w * h * 3), width: w, height: h };
}

/** The audio as mono 48 kHz floats, from `fromSeconds` for `seconds`. */
export function audioOf(file: string, fromSeconds: number, seconds: number): Float32Array {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-ss', String(fromSeconds), '-t', String(seconds), '-i', file, '-vn', '-ac', '1', '-ar', '48000', '-f', 'f32le', 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`cannot decode audio of ${file}: ${r.stderr}`);
  return new Float32Array(r.stdout.buffer, r.stdout.byteOffset, Math.floor(r.stdout.length / 4));
}

/** A picture file (a JPEG thumbnail) decoded and scaled to w×h RGB. */
export function pictureOf(image: Buffer, w = 320, h = 180): RgbFrame {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'image2pipe', '-i', 'pipe:0', '-frames:v', '1', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: image, maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0 || r.stdout.length < w * h * 3) throw new Error(`not a picture: ${r.stderr}`);
  return { rgb: r.stdout.subarray(0, w * h * 3), width: w, height: h };
}
