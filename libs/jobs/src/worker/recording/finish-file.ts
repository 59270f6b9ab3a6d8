import { rename, rm } from 'node:fs/promises';
import { type FfmpegBinaries, probeMedia, remuxIndexFront, writeThumbnail } from '@app/media';
import type { RecordingFormat } from '../../recording';
import { fileSize } from './stitch';

/**
 * Whether a finished (remuxed) file is the recording it was made from: its duration within `max(1 s, 1 %)` of the
 * original's. Returns the problem, or undefined when it is fine (pure).
 */
export function finishProblem(finishedSeconds: number | undefined, originalSeconds: number): string | undefined {
  if (finishedSeconds === undefined) return 'the finished file is not playable';
  if (Math.abs(finishedSeconds - originalSeconds) > Math.max(1, originalSeconds * 0.01)) {
    return `the finished file lasts ${finishedSeconds.toFixed(1)} s, the recording ${originalSeconds.toFixed(1)} s`;
  }
  return undefined;
}

export type FinishFileResult = { ok: true; durationSeconds: number; sizeBytes: number } | { ok: false; error: string };

/**
 * Rewrites a recording's file with its index at the front (see remuxIndexFront), every stream copied, so a browser or
 * an editor seeks it at once: written to `tmp`, checked with ffprobe, then renamed over `file`. The rename is atomic,
 * so at every moment `file` is a complete, playable recording (the crash-safe one until then). On any failure `file` is
 * left as it is and `tmp` is removed.
 */
export async function finishFile(o: {
  bins: FfmpegBinaries;
  file: string;
  tmp: string;
  format: RecordingFormat;
  /** The recording's duration as probed: the finished file must last as long. */
  originalSeconds: number;
  onProgress?: (seconds: number) => void;
}): Promise<FinishFileResult> {
  try {
    await rm(o.tmp, { force: true });
    await remuxIndexFront({ bins: o.bins, input: o.file, output: o.tmp, format: o.format, onProgress: o.onProgress });
    const durationSeconds = (await probeMedia(o.tmp, o.bins))?.durationSeconds;
    const problem = finishProblem(durationSeconds, o.originalSeconds);
    if (problem || durationSeconds === undefined) return { ok: false, error: problem ?? 'the finished file is not playable' };
    await rename(o.tmp, o.file);
    return { ok: true, durationSeconds, sizeBytes: await fileSize(o.file) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    await rm(o.tmp, { force: true }).catch(() => undefined);
  }
}

/** Writes the recording's thumbnail to `output` (through a temporary name). Returns why not, or undefined when it did. */
export async function makeThumbnail(o: { bins: FfmpegBinaries; file: string; output: string; durationSeconds: number }): Promise<string | undefined> {
  const tmp = o.output.replace(/(\.[a-z]+)$/, '.tmp$1');
  try {
    await writeThumbnail({ bins: o.bins, input: o.file, output: tmp, durationSeconds: o.durationSeconds });
    if ((await fileSize(tmp)) === 0) return 'ffmpeg wrote no picture';
    await rename(tmp, o.output);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
