import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Finds ffmpeg: FFMPEG_PATH, else the optional `ffmpeg-static` binary if its download succeeded, else `ffmpeg` on PATH.
 * Then checks that it has the encoders the MCU needs.
 */
export const REQUIRED_ENCODERS = ['libx264', 'libvpx', 'libopus'] as const;

export interface FfmpegInfo {
  path: string;
  source: 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';
  version: string;
}

export class FfmpegNotUsableError extends Error {
  override name = 'FfmpegNotUsableError';
}

/** Candidates in order of preference. `staticPath` is what `require('ffmpeg-static')` returned, if anything. */
export function ffmpegCandidates(ffmpegPath: string | undefined, staticPath: string | null | undefined): Array<Omit<FfmpegInfo, 'version'>> {
  const out: Array<Omit<FfmpegInfo, 'version'>> = [];
  if (ffmpegPath) out.push({ path: ffmpegPath, source: 'FFMPEG_PATH' });
  if (staticPath) out.push({ path: staticPath, source: 'ffmpeg-static' });
  out.push({ path: 'ffmpeg', source: 'PATH' });
  return out;
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

/** Resolves and checks ffmpeg once. Throws FfmpegNotUsableError naming what is wrong and what to install. */
export function locateFfmpeg(ffmpegPath: string | undefined): FfmpegInfo {
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
    return { ...c, version: (v.stdout.split('\n')[0] ?? '').replace(/^ffmpeg version\s+/, '').split(' ')[0] };
  }
  throw new FfmpegNotUsableError(
    `no usable ffmpeg found (tried ${tried.join('; ')}). Install it (Debian/Ubuntu: apt-get install ffmpeg) or set FFMPEG_PATH`,
  );
}
