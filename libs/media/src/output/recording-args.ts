import type { VideoCodec } from '@app/core';
import { mixInputArgs } from '../ffmpeg/ffmpeg-args';

/** The containers a recording can be written in. */
export const RECORDING_FORMATS = ['mp4', 'webm', 'mkv'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];

/**
 * ffmpeg arguments for a recording (pure). Input: the room's encoded mix as it arrives — video frames in IVF on stdin
 * (H.264 or VP8, copied), Opus in Ogg on fd 3 (copied). Output: a file that is playable at every moment (fragmented MP4
 * with 1 s fragments; Matroska/WebM clusters of at most 1 s), so a kill -9 loses at most the last second.
 * Video is re-encoded only when the container cannot hold the room's codec (H.264 in WebM, VP8 in MP4).
 */
export interface RecordingArgsOptions {
  format: RecordingFormat;
  audioOnly: boolean;
  videoCodec?: VideoCodec;
  videoBitrateKbps?: number;
  output: string;
}

export function recordingNeedsVideoTranscode(format: RecordingFormat, codec: VideoCodec): boolean {
  return (format === 'webm' && codec !== 'vp8') || (format === 'mp4' && codec !== 'h264');
}

export function recordingArgs(o: RecordingArgsOptions): string[] {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-y'];
  args.push(...mixInputArgs({ audioOnly: o.audioOnly }));
  if (o.audioOnly) args.push('-map', '0:a');
  else {
    if (!o.videoCodec) throw new Error('videoCodec is required for a video recording');
    args.push('-map', '0:v', '-map', '1:a');
    if (!recordingNeedsVideoTranscode(o.format, o.videoCodec)) args.push('-c:v', 'copy');
    else if (o.format === 'webm') {
      const kbps = o.videoBitrateKbps ?? 1500;
      args.push('-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1', '-b:v', `${kbps}k`, '-g', '60');
    } else args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p');
  }
  args.push('-c:a', 'copy');
  if (o.format === 'mp4') args.push('-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4');
  else args.push('-cluster_time_limit', '1000', '-f', o.format === 'webm' ? 'webm' : 'matroska');
  args.push('-flush_packets', '1', o.output);
  return args;
}

/*
 * The one-shot jobs on a finished recording run through fluent-ffmpeg (see fluent.ts), which takes input options,
 * an input, output options and an output: these are their options (pure).
 */

/**
 * Output options that rewrite a recording with its index at the front, every stream copied (seconds, not a re-encode):
 * MP4 with `+faststart` (the moov box before mdat), WebM/Matroska with `-cues_to_front` (the Cues before the clusters),
 * so a browser or an editor can seek at once. Also used when parts are stitched into one file.
 */
export function indexFrontOptions(format: RecordingFormat): string[] {
  const copy = ['-map', '0', '-c', 'copy'];
  if (format === 'mp4') return [...copy, '-movflags', '+faststart', '-f', 'mp4'];
  return [...copy, '-cues_to_front', '1', '-f', format === 'webm' ? 'webm' : 'matroska'];
}

/**
 * Input options that read a list of parts with the concat demuxer (`-safe 0`: its paths are absolute). `-xerror`: a
 * part that cannot be read fails the stitch (ffmpeg would otherwise skip it and exit 0).
 */
export const CONCAT_INPUT_OPTIONS: readonly string[] = ['-xerror', '-f', 'concat', '-safe', '0'];

/** Where a recording's thumbnail is taken: 1 s in, or the middle of a shorter one. */
export const thumbnailAtSeconds = (durationSeconds: number): number => (durationSeconds >= 2 ? 1 : Math.max(0, durationSeconds / 2));

/** A thumbnail: seek to `atSeconds` in the input, then one frame, at most 640 pixels wide, as a JPEG. */
export function thumbnailOptions(atSeconds: number): { input: string[]; output: string[] } {
  return {
    input: ['-ss', atSeconds.toFixed(3)],
    output: ['-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=w=min(640\\,iw):h=-2', '-q:v', '3', '-f', 'image2'],
  };
}

