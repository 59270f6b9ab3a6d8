import { type FfmpegBinaries, runFluent } from './fluent';
import { CONCAT_INPUT_OPTIONS, indexFrontOptions, type RecordingFormat, thumbnailAtSeconds, thumbnailOptions } from './recording-args';

/**
 * The one-shot jobs on a recording's files (through fluent-ffmpeg, see fluent.ts): each writes `output` and nothing
 * else; the caller writes to a temporary name, checks the result and renames it.
 */

/**
 * Rewrites a recording with its index at the front (MP4 `+faststart`, WebM/Matroska Cues first), every stream copied.
 * `onProgress` is told the seconds written so far.
 */
export function remuxIndexFront(o: { bins: FfmpegBinaries; input: string; output: string; format: RecordingFormat; onProgress?: (seconds: number) => void; timeoutMs?: number }): Promise<void> {
  return runFluent({ bins: o.bins, input: o.input, output: o.output, outputOptions: indexFrontOptions(o.format), onProgress: o.onProgress, timeoutMs: o.timeoutMs ?? 10 * 60_000 });
}

/** Joins the files listed in `list` (a concat demuxer list) into one, every stream copied, its index at the front. */
export function concatFiles(o: { bins: FfmpegBinaries; list: string; output: string; format: RecordingFormat; timeoutMs?: number }): Promise<void> {
  return runFluent({ bins: o.bins, input: o.list, inputOptions: CONCAT_INPUT_OPTIONS, output: o.output, outputOptions: indexFrontOptions(o.format), timeoutMs: o.timeoutMs ?? 10 * 60_000 });
}

/** A JPEG of the frame 1 s into a recording (the middle of a shorter one). */
export function writeThumbnail(o: { bins: FfmpegBinaries; input: string; output: string; durationSeconds: number }): Promise<void> {
  const t = thumbnailOptions(thumbnailAtSeconds(o.durationSeconds));
  return runFluent({ bins: o.bins, input: o.input, inputOptions: t.input, output: o.output, outputOptions: t.output, timeoutMs: 60_000 });
}
