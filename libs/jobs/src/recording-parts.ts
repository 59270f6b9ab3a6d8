/**
 * Recording parts (pure). A recording whose worker loses the room's stream (the room moved to another node, its media
 * worker failed) finishes the file it was writing and records the next part into its own file once it reconnects;
 * when the recording ends, the parts are stitched into the recording's usual file.
 */
import { ValidationError } from '@app/core';
import { type Recording, recordingFileName, RECORDING_ID_RE, type RecordingFormat, type RecordingPart } from './recording';

/** The file of part `index` (≥ 1) once a recording has several: `<id>.part<index>.<ext>`; from the server's id only. */
export function recordingPartFileName(id: string, format: RecordingFormat, index: number): string {
  if (!RECORDING_ID_RE.test(id)) throw new ValidationError('invalid recording id');
  if (!Number.isInteger(index) || index < 1) throw new ValidationError('invalid part number');
  return `${id}.part${index}.${format}`;
}

/** The sum of the parts' durations and sizes (a part still being written counts what it has so far). */
export function partsTotals(parts: readonly Pick<RecordingPart, 'durationSeconds' | 'sizeBytes'>[]): { durationSeconds: number; sizeBytes: number } {
  let durationSeconds = 0;
  let sizeBytes = 0;
  for (const p of parts) {
    durationSeconds += p.durationSeconds ?? 0;
    sizeBytes += p.sizeBytes ?? 0;
  }
  return { durationSeconds: Math.round(durationSeconds * 100) / 100, sizeBytes };
}

/** Wait before reconnect attempt `attempt` (0, 1, 2…): 0.5 s, 1 s, 2 s, 4 s, then 5 s each. */
export const reconnectDelayMs = (attempt: number): number => Math.min(5000, 500 * 2 ** Math.max(0, attempt));

/**
 * The list file of ffmpeg's concat demuxer for `files` (absolute paths), in order. Single quotes in a path are escaped
 * the way the demuxer reads them ('\''), so no path can end its quoting.
 */
export function concatListFile(files: readonly string[]): string {
  return `ffconcat version 1.0\n${files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('')}`;
}

/**
 * Whether a stitched file is what its parts add up to: its duration within `max(2 s, 1 %)` of the sum of theirs.
 * Returns the problem, or undefined when it is fine.
 */
export function stitchProblem(stitchedSeconds: number | undefined, partSeconds: readonly number[]): string | undefined {
  const sum = partSeconds.reduce((a, b) => a + b, 0);
  if (stitchedSeconds === undefined) return 'the stitched file is not playable';
  const tolerance = Math.max(2, sum * 0.01);
  if (Math.abs(stitchedSeconds - sum) > tolerance) return `the stitched file lasts ${stitchedSeconds.toFixed(1)} s, the parts ${sum.toFixed(1)} s`;
  return undefined;
}

/**
 * The file of part `index` of `rec`, if the record lists that part: derived from the id again, never taken from the
 * stored string (the recording's own name while it is the only part, else `<id>.part<index>.<ext>`).
 */
export function partFileName(rec: Pick<Recording, 'id' | 'format' | 'parts'>, index: number): string | undefined {
  const part = rec.parts?.find((p) => p.index === index);
  if (!part) return undefined;
  const own = recordingFileName(rec.id, rec.format);
  return part.fileName === own ? own : recordingPartFileName(rec.id, rec.format, index);
}
