import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Finds ffmpeg: FFMPEG_PATH, else the optional `ffmpeg-static` binary if its download succeeded, else `ffmpeg` on PATH.
 * Then checks that it has the encoders the MCU needs. ffprobe (recordings are measured and verified with it) is found
 * on its own: `ffmpeg-static` ships none.
 */
export const REQUIRED_ENCODERS = ['libx264', 'libvpx', 'libopus'] as const;

export interface FfmpegInfo {
  path: string;
  source: 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';
  version: string;
  /** The ffprobe every prober uses (see locateFfprobe). */
  ffprobe: FfprobeInfo;
}

export interface FfprobeInfo {
  path: string;
  source: 'FFPROBE_PATH' | 'beside ffmpeg' | 'PATH';
}

export class FfmpegNotUsableError extends Error {
  override name = 'FfmpegNotUsableError';
}

/** Candidates in order of preference. `staticPath` is what `require('ffmpeg-static')` returned, if anything. */
export function ffmpegCandidates(ffmpegPath: string | undefined, staticPath: string | null | undefined): Array<Pick<FfmpegInfo, 'path' | 'source'>> {
  const out: Array<Pick<FfmpegInfo, 'path' | 'source'>> = [];
  if (ffmpegPath) out.push({ path: ffmpegPath, source: 'FFMPEG_PATH' });
  if (staticPath) out.push({ path: staticPath, source: 'ffmpeg-static' });
  out.push({ path: 'ffmpeg', source: 'PATH' });
  return out;
}

/**
 * Which ffprobe to use (pure): `ffprobePath` (FFPROBE_PATH) when set, else `ffprobe` in the directory of the ffmpeg in
 * use when `exists` says one is there, else `ffprobe` on PATH.
 */
export function ffprobeCandidate(ffprobePath: string | undefined, ffmpegPath: string, exists: (file: string) => boolean): FfprobeInfo {
  if (ffprobePath) return { path: ffprobePath, source: 'FFPROBE_PATH' };
  // a bare name (`ffmpeg`) was looked up on PATH: so is ffprobe
  if (/[\\/]/.test(ffmpegPath)) {
    const beside = path.resolve(path.dirname(ffmpegPath), `ffprobe${path.extname(ffmpegPath).toLowerCase() === '.exe' ? '.exe' : ''}`);
    if (exists(beside)) return { path: beside, source: 'beside ffmpeg' };
  }
  return { path: 'ffprobe', source: 'PATH' };
}

/** Resolves ffprobe for `ffmpegPath` and checks that it runs. Throws FfmpegNotUsableError saying what to install or set. */
export function locateFfprobe(ffprobePath: string | undefined, ffmpegPath: string): FfprobeInfo {
  const c = ffprobeCandidate(ffprobePath, ffmpegPath, existsSync);
  const v = spawnSync(c.path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (!v.error && v.status === 0) return c;
  const why = v.error ? ((v.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : v.error.message) : `exit ${v.status}`;
  throw new FfmpegNotUsableError(
    `no usable ffprobe: ${c.path} (${c.source}): ${why}. Recordings are measured and checked with it; install it ` +
      `(Debian/Ubuntu: apt-get install ffmpeg) or set FFPROBE_PATH (ffmpeg-static ships no ffprobe)`,
  );
}

/**
 * A spawn's `error` in words, for a job's failure reason: a missing binary (ENOENT) is "ffmpeg not found at <path>".
 * Undefined when the process did start (`pid` set): then the error was a failed kill, and its exit says the rest.
 */
export function spawnFailure(child: { pid?: number }, command: string, err: NodeJS.ErrnoException, name = 'ffmpeg'): string | undefined {
  if (child.pid !== undefined) return undefined;
  return err.code === 'ENOENT' ? `${name} not found at ${command}` : `cannot run ${name} at ${command}: ${err.message}`;
}

/** Encoders from REQUIRED_ENCODERS missing in `ffmpeg -encoders` output. */
export function missingEncoders(encodersOutput: string): string[] {
  return REQUIRED_ENCODERS.filter((e) => !new RegExp(`^\\s*[VAS][.FSXBD]{5}\\s+${e}\\s`, 'm').test(encodersOutput));
}

function staticBinary(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const p = require('ffmpeg-static') as string | null;
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves and checks ffmpeg once, and the ffprobe that goes with it (`ffprobePath`: FFPROBE_PATH). Throws
 * FfmpegNotUsableError naming what is wrong and what to install.
 */
export function locateFfmpeg(ffmpegPath: string | undefined, ffprobePath?: string): FfmpegInfo {
  const tried: string[] = [];
  for (const c of ffmpegCandidates(ffmpegPath, staticBinary())) {
    const v = spawnSync(c.path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
    if (v.error || v.status !== 0) {
      tried.push(`${c.path} (${c.source}): ${v.error?.message ?? `exit ${v.status}`}`);
      if (c.source === 'FFMPEG_PATH') break; // an explicit path that does not work is an error, not a hint
      continue;
    }
    const enc = spawnSync(c.path, ['-hide_banner', '-encoders'], { encoding: 'utf8', timeout: 10_000 });
    const missing = missingEncoders(enc.stdout ?? '');
    if (missing.length) {
      throw new FfmpegNotUsableError(
        `ffmpeg at ${c.path} (${c.source}) lacks encoder(s) ${missing.join(', ')}; install a build with libx264, libvpx and libopus ` +
          `(Debian/Ubuntu: apt-get install ffmpeg) or point FFMPEG_PATH at one`,
      );
    }
    const version = (v.stdout.split('\n')[0] ?? '').replace(/^ffmpeg version\s+/, '').split(' ')[0];
    return { ...c, version, ffprobe: locateFfprobe(ffprobePath, c.path) };
  }
  throw new FfmpegNotUsableError(
    `no usable ffmpeg found (tried ${tried.join('; ')}). Install it (Debian/Ubuntu: apt-get install ffmpeg) or set FFMPEG_PATH`,
  );
}
