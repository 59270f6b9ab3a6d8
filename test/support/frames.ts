import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DecodedFrame } from '../helpers/whep-subscriber';

export const ARTIFACTS_DIR = path.join(__dirname, '..', '..', 'test-artifacts');

/** Saves a decoded frame as a PPM image under test-artifacts/ (any image viewer or ffmpeg reads it). */
export function saveFrame(f: DecodedFrame, name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.ppm`);
  writeFileSync(file, Buffer.concat([Buffer.from(`P6\n${f.width} ${f.height}\n255\n`), f.rgb]));
  return file;
}
