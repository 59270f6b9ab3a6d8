import { rm, rename, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { concatFiles, type FfmpegBinaries, probeMedia } from '@app/media';
import type { RecordingFormat } from '../../recording';
import { concatListFile, stitchProblem } from '../../recording-parts';

/** The file's duration by ffprobe (through fluent-ffmpeg, asynchronously: an embedded worker shares its event loop with the mixer clocks). */
export async function probeDuration(file: string, bins: FfmpegBinaries): Promise<number | undefined> {
  return (await probeMedia(file, bins))?.durationSeconds;
}

export const fileSize = (file: string): Promise<number> => stat(file).then((s) => s.size, () => 0);

export type StitchResult = { ok: true; durationSeconds: number; sizeBytes: number } | { ok: false; error: string };

/**
 * Stitches `parts` (absolute paths, in order, with their probed durations) into `output` with ffmpeg's concat demuxer,
 * copying every stream, the index at the front. Written to a temporary name first and checked with ffprobe (its
 * duration ≈ the parts' sum); only a good file takes the name `output`. The parts are never touched; the list and a
 * bad result are removed.
 */
export async function stitchParts(o: { bins: FfmpegBinaries; format: RecordingFormat; parts: ReadonlyArray<{ file: string; durationSeconds: number }>; output: string; timeoutMs?: number }): Promise<StitchResult> {
  const ext = path.extname(o.output);
  const base = o.output.slice(0, o.output.length - ext.length);
  const list = `${base}.parts.txt`;
  const tmp = `${base}.stitching${ext}`;
  try {
    await writeFile(list, concatListFile(o.parts.map((p) => path.resolve(p.file))));
    try {
      await concatFiles({ bins: o.bins, list, output: tmp, format: o.format, timeoutMs: o.timeoutMs });
    } catch (e) {
      return { ok: false, error: `ffmpeg could not stitch the parts: ${(e as Error).message}` };
    }
    const durationSeconds = await probeDuration(tmp, o.bins);
    const problem = stitchProblem(durationSeconds, o.parts.map((p) => p.durationSeconds));
    if (problem || durationSeconds === undefined) return { ok: false, error: problem ?? 'the stitched file is not playable' };
    await rename(tmp, o.output);
    return { ok: true, durationSeconds, sizeBytes: await fileSize(o.output) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    await rm(list, { force: true }).catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
